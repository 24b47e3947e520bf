import type { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { lambdaInvoker } from '../../invokers';

/** A LambdaClient whose Invoke answers `response`, recording each command's input. */
const stubLambda = (response: { StatusCode: number; FunctionError?: string; Payload?: string }) => {
  const inputs: InvokeCommand['input'][] = [];
  const client = {
    send: async (command: InvokeCommand) => {
      inputs.push(command.input);
      return { ...response, Payload: response.Payload === undefined ? undefined : new TextEncoder().encode(response.Payload) };
    },
  } as unknown as LambdaClient;
  return { client, inputs };
};

describe('lambdaInvoker', () => {
  it('invokes the deployed name alma-cache-<service>-<stage>-<name> synchronously when no ARN is known', async () => {
    // Prepare
    const lambda = stubLambda({ StatusCode: 200, Payload: '{"batchItemFailures":[]}' });

    // Act
    await lambdaInvoker(lambda.client, 'prod').invokeSync({ service: 'alma-cache-sns', name: 'loan-updated' }, { Records: [] });

    // Assess
    expect(lambda.inputs).toEqual([
      { FunctionName: 'alma-cache-sns-prod-loan-updated', InvocationType: 'RequestResponse', Payload: '{"Records":[]}' },
    ]);
  });

  it('returns a synchronous response, and turns a function error into an error with its type and message', async () => {
    // Prepare
    const ok = stubLambda({ StatusCode: 200, Payload: '{"batchItemFailures":[]}' });
    const failed = stubLambda({ StatusCode: 200, FunctionError: 'Unhandled', Payload: '{"errorType":"AlmaUnavailableError","errorMessage":"429"}' });
    const fn = { service: 'alma-cache-refresh', name: 'update-user', arn: 'arn:aws:lambda:eu-west-1:1:function:x' };

    // Act
    const response = await lambdaInvoker(ok.client, 'stg').invokeSync(fn, {});
    const error = await lambdaInvoker(failed.client, 'stg')
      .invokeSync(fn, {})
      .catch((caught: Error) => caught);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(ok.inputs[0]).toMatchObject({ FunctionName: fn.arn, InvocationType: 'RequestResponse' });
    expect(error).toMatchObject({ name: 'AlmaUnavailableError', message: '429' });
  });
});

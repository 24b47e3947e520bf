import type { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { almaWebhookMessage } from '@alma-cache/cache-domain/testing';
import { snsEvent } from '@alma-cache/local-aws';
import { classifyMessage } from '../../classify';
import type { FunctionInvoker } from '../../invokers';
import { handlerTarget, sourceTarget } from '../../targets';

const DLQ_ARN = 'arn:aws:sqs:eu-west-1:1:alma-cache-stg-loan-updated-dlq';
const REFUSED = {
  RefusedErrorType: { DataType: 'String', StringValue: 'MalformedEventError' },
  RefusedReason: { DataType: 'String', StringValue: 'too far ahead' },
  traceparent: { DataType: 'String', StringValue: '00-abc-def-01' },
};

/** An SQS client that takes every SendMessage, recording its input. */
const stubSqs = () => {
  const sent: SendMessageCommand['input'][] = [];
  const client = {
    send: async (command: SendMessageCommand) => {
      sent.push(command.input);
      return { MessageId: `id-${sent.length}` };
    },
  } as unknown as SQSClient;
  return { client, sent };
};

const onDlq = (body: string) =>
  classifyMessage({ MessageId: 'm1', ReceiptHandle: 'h1', Body: body, MessageAttributes: REFUSED }, 'alma-cache-stg-loan-updated-dlq');

const failureRecord = (message: string) =>
  classifyMessage(
    {
      MessageId: 'm2',
      Body: JSON.stringify({
        requestContext: { functionArn: 'arn:aws:lambda:eu-west-1:1:function:alma-cache-sns-stg-loan-updated', condition: 'RetriesExhausted' },
        requestPayload: snsEvent('arn:aws:sns:eu-west-1:1:LOAN_CREATED', message),
        responsePayload: { errorType: 'ProvisionedThroughputExceededException', errorMessage: 'slow down' },
      }),
    },
    'alma-cache-stg-sns-lambdas-failures',
  );

describe('Function: sourceTarget', () => {
  it("sends a DLQ event to the DLQ's source queue and a failure-queue record's message to its function's queue, never the refusal attributes", async () => {
    // Prepare
    const sqs = stubSqs();
    const target = sourceTarget({
      sqs: sqs.client,
      sourceQueueUrl: async () => 'https://sqs/1/alma-cache-stg-loan-updated',
      eventQueue: (fn) => ({ name: `alma-cache-stg-${fn}`, url: async () => `https://sqs/1/alma-cache-stg-${fn}` }),
    });
    const body = almaWebhookMessage('LOAN_CREATED');

    // Act
    const plans = [await target.plan(onDlq(body)), await target.plan(failureRecord(body))];
    await target.replay(onDlq(body));
    await target.replay(failureRecord(body));

    // Assess
    expect(plans).toEqual([{ action: 'send to alma-cache-stg-loan-updated' }, { action: 'send to alma-cache-stg-loan-updated' }]);
    expect(sqs.sent).toEqual([
      { QueueUrl: 'https://sqs/1/alma-cache-stg-loan-updated', MessageBody: body, MessageAttributes: { traceparent: REFUSED.traceparent } },
      { QueueUrl: 'https://sqs/1/alma-cache-stg-loan-updated', MessageBody: body, MessageAttributes: undefined },
    ]);
  });
});

describe('Function: handlerTarget', () => {
  it('gives the function a one-record SQS event with the raw body and its own attributes, as its queue would', async () => {
    // Prepare
    const events: unknown[] = [];
    const invoker: FunctionInvoker = {
      where: 'test',
      describe: (fn) => fn.name,
      invokeSync: async (_fn, event) => {
        events.push(event);
        return { batchItemFailures: [] };
      },
    };
    const body = almaWebhookMessage('LOAN_CREATED');

    // Act
    const result = await handlerTarget({ invoker, eventSourceArn: DLQ_ARN }).replay(onDlq(body));

    // Assess
    expect(result).toBe('loan-updated processed it');
    expect(events).toEqual([
      {
        Records: [
          expect.objectContaining({
            messageId: 'm1',
            body,
            eventSource: 'aws:sqs',
            eventSourceARN: DLQ_ARN,
            messageAttributes: { traceparent: { dataType: 'String', stringValue: '00-abc-def-01', stringListValues: [], binaryListValues: [] } },
          }),
        ],
      },
    ]);
  });
});

import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';

/** A function's handler as a built bundle exports it. */
export type LambdaHandler = (event: unknown, context: Record<string, unknown>) => Promise<unknown>;

/** A function of the stacks: its service and short name (`alma-cache-sns`, `loan-updated`), or a name/ARN as given. */
export interface FunctionRef {
  service: string;
  name: string;
  /** The deployed function's name or ARN when known exactly (an on-failure record names it; `--function` sets it). */
  arn?: string;
}

/** How the handler target reaches a function: Lambda's Invoke against AWS, the built bundle in this process locally. */
export interface FunctionInvoker {
  /** For messages and reports: "Lambda Invoke" or "local bundle". */
  readonly where: string;
  /** One-line name of the function a replay goes to. */
  describe(fn: FunctionRef): string;
  /**
   * A synchronous invocation (every function of the stacks is triggered by a queue now, so a replay waits for its
   * answer): the handler's response, or an error carrying the function's error type and message. */
  invokeSync(fn: FunctionRef, event: unknown): Promise<unknown>;
}

/** The deployed name: `alma-cache-<service>-<stage>-<name>`, as each serverless.yml's functionPrefix makes it. */
const deployedName = (fn: FunctionRef, stage: string): string => fn.arn ?? `${fn.service}-${stage}-${fn.name}`;

/** Invokes the deployed functions through Lambda (needs lambda:InvokeFunction on them). */
export const lambdaInvoker = (lambda: LambdaClient, stage: string): FunctionInvoker => ({
  where: 'Lambda Invoke',
  describe: (fn) => deployedName(fn, stage),
  async invokeSync(fn, event) {
    const response = await lambda.send(
      new InvokeCommand({ FunctionName: deployedName(fn, stage), InvocationType: 'RequestResponse', Payload: JSON.stringify(event) }),
    );
    const text = response.Payload ? Buffer.from(response.Payload).toString('utf8') : '';
    let payload: unknown;
    try {
      payload = text ? JSON.parse(text) : undefined;
    } catch {
      payload = text;
    }
    if (response.FunctionError) {
      const error = (payload ?? {}) as { errorType?: string; errorMessage?: string };
      throw Object.assign(new Error(error.errorMessage ?? text), { name: error.errorType ?? response.FunctionError });
    }
    return payload;
  },
});

/** Runs built bundles in this process (the local stack's way), each loaded by `load` with its function's environment. */
export const localInvoker = (load: (fn: FunctionRef) => Promise<LambdaHandler>): FunctionInvoker => {
  const context = (fn: FunctionRef) => ({ awsRequestId: `redrive-${Date.now()}`, functionName: fn.name });
  return {
    where: 'local bundle',
    describe: (fn) => `${fn.name} (local bundle)`,
    async invokeSync(fn, event) {
      return (await load(fn))(event, context(fn));
    },
  };
};

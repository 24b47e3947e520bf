import { randomUUID } from 'node:crypto';

/** A Lambda handler as a bundle exports it. */
export type LambdaHandler = (event: unknown, context: Record<string, unknown>) => Promise<unknown>;

/** The record Lambda sends to an on-failure destination after an asynchronous invocation's last retry. */
export interface DestinationRecord {
  version: '1.0';
  timestamp: string;
  requestContext: { requestId: string; functionArn: string; condition: 'RetriesExhausted'; approximateInvokeCount: number };
  requestPayload: unknown;
  responseContext: { statusCode: 200; executedVersion: '$LATEST'; functionError: 'Unhandled' };
  responsePayload: { errorType: string; errorMessage: string; trace: string[] };
}

export interface AsyncInvokeOptions {
  functionArn: string;
  /** Lambda's default and this stack's setting: 2. */
  maximumRetryAttempts?: number;
  /**
   * Wait before each retry: `[first, second]` in ms. Lambda waits about one and then two minutes; tests that need
   * time to pass between attempts (a backend coming back) give a scaled-down version. Default: retry at once.
   */
  retryDelaysMs?: readonly number[];
  /** Where the failure record goes (the stack's failure queue). */
  onFailure: (record: DestinationRecord) => Promise<void>;
  log?: (line: string) => void;
}

export interface AsyncInvokeResult {
  succeeded: boolean;
  attempts: number;
  error?: Error;
}

/**
 * Runs a handler the way Lambda runs an asynchronous (SNS) invocation: an error is retried, and after the last
 * retry the event goes to the on-failure destination with the error as its reason. Lambda waits a minute or two
 * between attempts; this retries at once (only the outcome matters locally) unless given `retryDelaysMs`.
 *
 * @example
 * await invokeAsync(handler, snsEvent, { functionArn, onFailure: (record) => sendToQueue(failureQueueUrl, record) });
 */
export const invokeAsync = async (handler: LambdaHandler, event: unknown, options: AsyncInvokeOptions): Promise<AsyncInvokeResult> => {
  const maxAttempts = (options.maximumRetryAttempts ?? 2) + 1;
  const requestId = randomUUID();
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
    const delayMs = attempt > 1 ? (options.retryDelaysMs?.[attempt - 2] ?? 0) : 0;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    try {
      await handler(event, { awsRequestId: requestId, functionName: options.functionArn.split(':').pop(), invokedFunctionArn: options.functionArn });
      return { succeeded: true, attempts: attempt };
    } catch (error) {
      lastError = error instanceof Error ? error : new Error(String(error));
      options.log?.(`attempt ${attempt}/${maxAttempts} failed: ${lastError.name}: ${lastError.message}`);
    }
  }
  const failure = lastError as Error;
  await options.onFailure({
    version: '1.0',
    timestamp: new Date().toISOString(),
    requestContext: { requestId, functionArn: options.functionArn, condition: 'RetriesExhausted', approximateInvokeCount: maxAttempts },
    requestPayload: event,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: { errorType: failure.name, errorMessage: failure.message, trace: (failure.stack ?? '').split('\n') },
  });
  return { succeeded: false, attempts: maxAttempts, error: failure };
};

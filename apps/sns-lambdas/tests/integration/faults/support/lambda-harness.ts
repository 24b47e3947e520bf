import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Container } from 'inversify';
import type { FailureParking } from '@alma-cache/aws-adapters';
import { type DestinationRecord, type AsyncInvokeResult, invokeAsync } from '@alma-cache/local-aws';
import { buildContainer } from '../../../../src/composition-root';
import { createSnsHandler, type ItemUseCase } from '../../../../src/sns-handler';
import { CapturedMetrics } from '@alma-cache/local-aws';
import { TOKENS } from '../../../../src/tokens';
import type { Clock } from '@alma-cache/cache-domain';
import { ManualClock, SAMPLES_RECEIVED_AT } from '@alma-cache/cache-domain/testing';
import { FUNCTION_OF, type RoutedEventType, snsEventFor } from '../../support/sns-functions';

export type SnsLambdaHandler = (event: unknown, context: Record<string, unknown>) => Promise<unknown>;

/** The stack's setting (serverless.yml) and Lambda's default. */
export const MAXIMUM_RETRY_ATTEMPTS = 2;

/** Lambda's function timeout: a handler still running after `ms` fails that attempt (and is retried), as in Lambda. */
const withFunctionTimeout =
  (handler: SnsLambdaHandler, ms: number): SnsLambdaHandler =>
  async (event, context) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`Task timed out after ${ms / 1000} seconds`), { name: 'Sandbox.Timedout' })), ms);
    });
    try {
      return await Promise.race([handler(event, context), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };

/**
 * The four functions as the deployed stack has them: one container from the real composition root (the same
 * singletons main.ts builds), each handler from `createSnsHandler`, run as Lambda runs an asynchronous SNS invocation
 * (retries, then the on-failure record sent to a real SQS failure queue). The functions park a refused event on the
 * failure queue their env names (FAILURE_QUEUE_URL, see {@link functionEnv}) themselves; pass the same queue as
 * `failureQueueUrl` so both kinds of record land together, as in the stack.
 *
 * @example
 * const lambdas = snsLambdas(env, { sqs, failureQueueUrl });
 * await lambdas.deliver('LOAN_CREATED', message);
 */
export const snsLambdas = (
  env: Readonly<Record<string, string | undefined>>,
  options: {
    sqs: SQSClient;
    failureQueueUrl: string;
    functionTimeoutMs?: number;
    retryDelaysMs?: readonly number[];
    /** Lets a test configure the container before any handler resolves from it (e.g. the SDK client's timeouts). */
    configure?: (container: Container) => void;
  },
) => {
  const container = buildContainer(env);
  // The suite's events are dated around the samples (late 2026): on the real clock they would fall outside the replay
  // horizon as the calendar moves on, so the functions run on a clock just after the samples.
  container.rebindSync<Clock>(TOKENS.Clock).toConstantValue(new ManualClock(SAMPLES_RECEIVED_AT));
  options.configure?.(container);
  const logger = container.get<Logger>(TOKENS.Logger);
  // Kept, not printed: thousands of invocations would flood the test output with EMF lines.
  const metrics = new CapturedMetrics('alma-cache-sns');
  const handlers = new Map<string, SnsLambdaHandler>();
  const handlerFor = (type: RoutedEventType): SnsLambdaHandler => {
    const { name, token } = FUNCTION_OF[type];
    let handler = handlers.get(name);
    if (!handler) {
      const parking = container.get<FailureParking>(TOKENS.FailureParking);
      const raw = createSnsHandler(container.get<ItemUseCase>(token), logger, metrics, parking) as unknown as SnsLambdaHandler;
      handler = withFunctionTimeout(raw, options.functionTimeoutMs ?? 10_000);
      handlers.set(name, handler);
    }
    return handler;
  };

  /** One asynchronous invocation of the function subscribed to `type`, with Lambda's retries and on-failure destination. */
  const invoke = (type: RoutedEventType, event: unknown): Promise<AsyncInvokeResult> =>
    invokeAsync(handlerFor(type), event, {
      functionArn: `arn:aws:lambda:eu-west-1:000000000000:function:alma-cache-sns-test-${FUNCTION_OF[type].name}`,
      maximumRetryAttempts: MAXIMUM_RETRY_ATTEMPTS,
      retryDelaysMs: options.retryDelaysMs,
      onFailure: async (record) => {
        await options.sqs.send(new SendMessageCommand({ QueueUrl: options.failureQueueUrl, MessageBody: JSON.stringify(record) }));
      },
    });

  return {
    container,
    logger,
    invoke,
    /** The webhook body published to `type`'s topic, delivered to its function. */
    deliver: (type: RoutedEventType, message: string) => invoke(type, snsEventFor(type, message)),
  };
};

/** Every message on a queue, each received once and deleted (so the next call sees only newer ones). */
export const drainQueue = async (sqs: SQSClient, queueUrl: string): Promise<string[]> => {
  const bodies: string[] = [];
  for (let emptyReads = 0; emptyReads < 2;) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (Messages.length === 0) emptyReads += 1;
    for (const message of Messages) {
      bodies.push(message.Body ?? '');
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  }
  return bodies;
};

/** The failure queue's records, parsed. */
export const drainFailureRecords = async (sqs: SQSClient, queueUrl: string): Promise<DestinationRecord[]> =>
  (await drainQueue(sqs, queueUrl)).map((body) => JSON.parse(body) as DestinationRecord);

/** The env the composition root reads, for a set of tables, a Users queue and the failure queue. */
export const functionEnv = (
  tables: { users: string; loans: string; requests: string; refreshClaims: string },
  userQueueUrl: string,
  failureQueueUrl: string,
) => ({
  ...process.env,
  USER_CACHE_TABLE_NAME: tables.users,
  LOAN_CACHE_TABLE_NAME: tables.loans,
  REQUEST_CACHE_TABLE_NAME: tables.requests,
  USER_REFRESH_CLAIM_TABLE_NAME: tables.refreshClaims,
  USER_QUEUE_URL: userQueueUrl,
  FAILURE_QUEUE_URL: failureQueueUrl,
});

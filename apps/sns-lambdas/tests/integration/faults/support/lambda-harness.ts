import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '@aws-lambda-powertools/logger';
import { randomUUID } from 'node:crypto';
import type { Container } from 'inversify';
import type { SQSBatchResponse } from 'aws-lambda';
import { type FailureParking, type MessageDelay, SqsFailureParking } from '@alma-cache/aws-adapters';
import { type DestinationRecord, type AsyncInvokeResult, invokeAsync, sqsEvent, sqsRecord } from '@alma-cache/local-aws';
import { buildContainer } from '../../../../src/composition-root';
import { createSnsHandler, type ItemUseCase } from '../../../../src/sns-handler';
import { createItemEventHandler, EVENT_MAX_RECEIVE_COUNT } from '../../../../src/sqs-handler';
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
    /**
     * `sqs`: each function reads its queue (issue 19): `deliver` hands the message to the SQS batch handler as
     * Lambda's SQS poller does, receive after receive, and after the last one SQS's redrive moves it to the DLQ, here
     * `failureQueueUrl` (where the handler also parks a refused event at once). Default `sns`: today's asynchronous
     * invocation.
     */
    via?: 'sns' | 'sqs';
    /** With `via: 'sqs'`, where the handler parks a refused event at once, when not `failureQueueUrl` (the DLQ). */
    parkingQueueUrl?: string;
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

  const queueHandlers = new Map<string, SnsLambdaHandler>();
  /** The backoffs the SQS handler asked for (ChangeMessageVisibility), applied as `retryDelaysMs` says (default: none). */
  const askedBackoffs: number[] = [];
  const queueHandlerFor = (type: RoutedEventType): SnsLambdaHandler => {
    const { name, token } = FUNCTION_OF[type];
    let handler = queueHandlers.get(name);
    if (!handler) {
      const delay: MessageDelay = { delay: async (_message, seconds) => (askedBackoffs.push(seconds), seconds) };
      const deadLetterQueue = new SqsFailureParking(options.sqs, options.parkingQueueUrl ?? options.failureQueueUrl);
      const raw = createItemEventHandler(container.get<ItemUseCase>(token), logger, metrics, {
        deadLetterQueue,
        delay,
      }) as unknown as SnsLambdaHandler;
      handler = withFunctionTimeout(raw, options.functionTimeoutMs ?? 10_000);
      queueHandlers.set(name, handler);
    }
    return handler;
  };

  /**
   * One message on `type`'s function queue, received until the handler reports it done (or parked it) or SQS's
   * `maxReceiveCount` is spent; then the redrive policy moves it, unchanged, to the DLQ.
   */
  const deliverFromQueue = async (type: RoutedEventType, message: string): Promise<AsyncInvokeResult> => {
    const queueArn = `arn:aws:sqs:eu-west-1:000000000000:alma-cache-test-${FUNCTION_OF[type].name}`;
    const messageId = randomUUID();
    let lastError: Error | undefined;
    for (let receive = 1; receive <= EVENT_MAX_RECEIVE_COUNT; receive += 1) {
      const waitMs = receive > 1 ? (options.retryDelaysMs?.[receive - 2] ?? options.retryDelaysMs?.at(-1) ?? 0) : 0;
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
      try {
        const response = (await queueHandlerFor(type)(
          sqsEvent([sqsRecord(message, queueArn, { messageId, receiveCount: receive })]),
          {},
        )) as SQSBatchResponse;
        if (response.batchItemFailures.length === 0) return { succeeded: true, attempts: receive };
        lastError = new Error('reported as a batch item failure');
      } catch (error) {
        // The invocation itself failed (a timeout): Lambda's poller makes the whole batch visible again.
        lastError = error instanceof Error ? error : new Error(String(error));
      }
    }
    await options.sqs.send(new SendMessageCommand({ QueueUrl: options.failureQueueUrl, MessageBody: message }));
    return { succeeded: false, attempts: EVENT_MAX_RECEIVE_COUNT, error: lastError };
  };

  return {
    container,
    logger,
    invoke,
    askedBackoffs,
    /** The webhook body published to `type`'s topic, delivered to its function (through its queue with `via: 'sqs'`). */
    deliver: (type: RoutedEventType, message: string) =>
      options.via === 'sqs' ? deliverFromQueue(type, message) : invoke(type, snsEventFor(type, message)),
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

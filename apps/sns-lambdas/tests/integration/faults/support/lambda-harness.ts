import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '@aws-lambda-powertools/logger';
import { randomUUID } from 'node:crypto';
import type { Container } from 'inversify';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { MessageDelay } from '@alma-cache/aws-adapters';
import { CapturedMetrics, sqsEvent, sqsRecord } from '@alma-cache/local-aws';
import type { Clock, SyncOutcome } from '@alma-cache/cache-domain';
import { ManualClock, SAMPLES_RECEIVED_AT } from '@alma-cache/cache-domain/testing';
import { buildContainer, itemEventHandlerFor, TOKENS } from '../../../../src/composition-root';
import { EVENT_MAX_RECEIVE_COUNT, type ItemEventUseCase } from '../../../../src/sqs-handler';
import { FUNCTION_OF, type RoutedEventType } from '../../support/sns-functions';

type QueueHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

/** What became of one message on a function's queue: done (applied or parked at once) or, after its last receive, moved to the DLQ. */
export interface DeliveryResult {
  readonly succeeded: boolean;
  /** The receives it took. */
  readonly attempts: number;
  /** Why its last receive failed, when it did not succeed. */
  readonly error?: Error;
}

/** Lambda's function timeout: a handler still running after `ms` fails that invocation (the batch comes back), as in Lambda. */
const withFunctionTimeout =
  (handler: QueueHandler, ms: number): QueueHandler =>
  async (event) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`Task timed out after ${ms / 1000} seconds`), { name: 'Sandbox.Timedout' })), ms);
    });
    try {
      return await Promise.race([handler(event), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };

/**
 * The four functions as the deployed stack has them: one container from the real composition root (the same
 * singletons a bundle builds; the metrics captured, the backoffs recorded), each handler resolved by
 * `itemEventHandlerFor` as the handler files resolve it. `deliver` hands a message
 * to it as Lambda's SQS poller does, receive after receive; a refused event is parked at once on the DLQ the env names
 * (DEAD_LETTER_QUEUE_ARN, see {@link functionEnv}), and after the queue's last receive SQS's redrive moves a failing
 * message there too: pass that DLQ as `deadLetterQueueUrl`.
 *
 * @example
 * const lambdas = snsLambdas(functionEnv(tables, userQueueUrl, dlqUrl), { sqs, deadLetterQueueUrl: dlqUrl });
 * await lambdas.deliver('LOAN_CREATED', message);
 */
export const snsLambdas = (
  env: Readonly<Record<string, string | undefined>>,
  options: {
    sqs: SQSClient;
    /** Where SQS's redrive moves a message after its last receive. */
    deadLetterQueueUrl: string;
    functionTimeoutMs?: number;
    /** The wait before each receive after the first (the last value repeats); the backoff the handler asks for is recorded, not waited. */
    retryDelaysMs?: readonly number[];
    /** Lets a test configure the container before any handler resolves from it (e.g. the SDK client's timeouts). */
    configure?: (container: Container) => void;
  },
) => {
  const container = buildContainer(env);
  // The suite's events are dated around the samples (late 2026): on the real clock they would fall outside the replay
  // horizon as the calendar moves on, so the functions run on a clock just after the samples.
  container.rebindSync<Clock>(TOKENS.Clock).toConstantValue(new ManualClock(SAMPLES_RECEIVED_AT));
  // Kept, not printed: thousands of invocations would flood the test output with EMF lines.
  const metrics = new CapturedMetrics('alma-cache-sns');
  container.rebindSync<CapturedMetrics>(TOKENS.Metrics).toConstantValue(metrics);
  /** The backoffs the handler asked for (ChangeMessageVisibility), recorded instead of applied: `retryDelaysMs` paces the receives. */
  const askedBackoffs: number[] = [];
  container
    .rebindSync<MessageDelay>(TOKENS.MessageDelay)
    .toConstantValue({ delay: async (_message, seconds) => (askedBackoffs.push(seconds), seconds) });
  /** What the use cases reported for every event they applied, in the order applied. */
  const applied: SyncOutcome[] = [];
  options.configure?.(container);
  const logger = container.get<Logger>(TOKENS.Logger);
  const handlers = new Map<string, QueueHandler>();
  const handlerFor = (type: RoutedEventType): QueueHandler => {
    const { name, token } = FUNCTION_OF[type];
    let handler = handlers.get(name);
    if (!handler) {
      // The use case as wired, wrapped to record what it reports; then the handler exactly as the bundle resolves it.
      const useCase = container.get<ItemEventUseCase>(token);
      container.rebindSync<ItemEventUseCase>(token).toConstantValue({
        execute: async (message) => {
          const outcome = await useCase.execute(message);
          applied.push(outcome);
          return outcome;
        },
      });
      handler = withFunctionTimeout(itemEventHandlerFor(token, container), options.functionTimeoutMs ?? 10_000);
      handlers.set(name, handler);
    }
    return handler;
  };

  /**
   * One message on `type`'s function queue, received until the handler reports it done (or parked it) or SQS's
   * `maxReceiveCount` is spent; then the redrive policy moves it, unchanged, to the DLQ.
   */
  const deliver = async (type: RoutedEventType, message: string): Promise<DeliveryResult> => {
    const queueArn = `arn:aws:sqs:eu-west-1:000000000000:alma-cache-test-${FUNCTION_OF[type].name}`;
    const messageId = randomUUID();
    let lastError: Error | undefined;
    for (let receive = 1; receive <= EVENT_MAX_RECEIVE_COUNT; receive += 1) {
      const waitMs = receive > 1 ? (options.retryDelaysMs?.[receive - 2] ?? options.retryDelaysMs?.at(-1) ?? 0) : 0;
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
      try {
        const response = await handlerFor(type)(sqsEvent([sqsRecord(message, queueArn, { messageId, receiveCount: receive })]));
        if (response.batchItemFailures.length === 0) return { succeeded: true, attempts: receive };
        lastError = new Error('reported as a batch item failure');
      } catch (error) {
        // The invocation itself failed (a timeout): Lambda's poller makes the whole batch visible again.
        lastError = error instanceof Error ? error : new Error(String(error));
      }
    }
    await options.sqs.send(new SendMessageCommand({ QueueUrl: options.deadLetterQueueUrl, MessageBody: message }));
    return { succeeded: false, attempts: EVENT_MAX_RECEIVE_COUNT, error: lastError };
  };

  return { container, logger, metrics, askedBackoffs, applied, deliver };
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

/** The ARN of a queue on the emulators, from its URL (`…/<account>/<name>`). */
export const queueArnOfUrl = (queueUrl: string): string => {
  const [name, account] = queueUrl.split('/').reverse();
  return `arn:aws:sqs:eu-west-1:${account}:${name}`;
};

/**
 * The env the composition root reads, for a set of tables, a Users queue, the function's DLQ (its URL) and its own
 * queue (SOURCE_QUEUE_URL, where the upgrade forwarder sends an SNS event): without one, a URL naming no queue, so
 * a test that forwards by mistake fails instead of sending somewhere.
 */
export const functionEnv = (
  tables: { users: string; loans: string; requests: string; refreshClaims: string },
  userQueueUrl: string,
  deadLetterQueueUrl: string,
  sourceQueueUrl = `${deadLetterQueueUrl}-no-source-queue`,
) => ({
  ...process.env,
  USER_CACHE_TABLE_NAME: tables.users,
  LOAN_CACHE_TABLE_NAME: tables.loans,
  REQUEST_CACHE_TABLE_NAME: tables.requests,
  USER_REFRESH_CLAIM_TABLE_NAME: tables.refreshClaims,
  USER_QUEUE_URL: userQueueUrl,
  DEAD_LETTER_QUEUE_ARN: queueArnOfUrl(deadLetterQueueUrl),
  SOURCE_QUEUE_URL: sourceQueueUrl,
});

import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { AlmaRequestError, AlmaUnavailableError, InvalidEventError } from '@alma-cache/cache-domain';
import type { FailureParking } from './sqs-failure-parking';
import type { MessageDelay } from './sqs-message-delay';

/** Handles one queue message; resolves when it is done, throws when it should be received again. */
export type SqsRecordProcessor = (record: SQSRecord) => Promise<void>;

/** What became of a message that threw: `refused` parked on the DLQ at once, `failed` received again (or DLQ'd by SQS). */
export type SqsFailureOutcome = 'refused' | 'failed';

/** The log line of a poison message sent straight to the DLQ. */
const PARKED_MESSAGE = 'Poison message: nothing written; sent to the DLQ at once with its reason, not received again';

/**
 * How the failure line reads: what went wrong and what happens to the message next. A poison message lands here only
 * when it could not be sent to the DLQ at once (or the handler has no DLQ).
 */
const describeFailure = (error: unknown, retriedMessage: string): { message: string; details: Record<string, unknown> } => {
  if (error instanceof InvalidEventError) {
    return {
      message: 'Poison message: nothing written; receiving it again will not help, SQS moves it to the DLQ after the last receive',
      details: { errorType: error.name, reason: error.reason, retryable: false },
    };
  }
  if (error instanceof AlmaUnavailableError) {
    return {
      message: 'Alma unavailable: the message will be received again after its visibility timeout',
      details: { errorType: error.name, reason: error.reason, retryAfterSeconds: error.retryAfterSeconds, retryable: true },
    };
  }
  if (error instanceof AlmaRequestError) {
    return {
      message: 'Alma refused the request: check the API key and the ids; the message goes to the DLQ after the last receive',
      details: { errorType: error.name, status: error.status, reason: error.reason, retryable: false },
    };
  }
  return { message: retriedMessage, details: { error: error as Error, retryable: true } };
};

/**
 * The message attributes of a received record in SendMessage's shape (Lambda's SQS event spells them in lower camel
 * case, binary values in base64), so a message parked on the DLQ keeps them.
 */
const sendableAttributes = (record: SQSRecord): Record<string, MessageAttributeValue> =>
  Object.fromEntries(
    Object.entries(record.messageAttributes ?? {}).flatMap(([name, attribute]): [string, MessageAttributeValue][] => {
      if (attribute.stringValue !== undefined) return [[name, { DataType: attribute.dataType, StringValue: attribute.stringValue }]];
      if (attribute.binaryValue !== undefined)
        return [[name, { DataType: attribute.dataType, BinaryValue: Buffer.from(attribute.binaryValue, 'base64') }]];
      return [];
    }),
  );

/** What {@link createSqsBatchHandler} needs besides the processor. */
export interface SqsBatchHandlerOptions {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /**
   * The metrics' `kind` dimension for the invocation: what this function refreshes (user, loan, …). Left out when the
   * processor publishes each message's metrics with its own dimensions (the cache-update functions' `Events`).
   */
  readonly kind?: string;
  /** Hides a message as Alma's Retry-After asked; without it, it comes back after the visibility timeout. */
  readonly delay?: MessageDelay;
  /** The DLQ of the queue the function reads, where a poison message is sent at once. */
  readonly deadLetterQueue?: FailureParking;
  /**
   * How long to hide a message that failed for any other reason than a refusal or Alma's Retry-After, by its receive
   * count (1 on the first), through `delay`; without it the message comes back after the queue's visibility timeout.
   * A growing backoff lets a queue's few receives span a long backend outage instead of being spent in minutes.
   */
  readonly backoffSeconds?: (receiveCount: number) => number;
  /** The failure line of an error none of the domain's known ones (default: "Processing failed: …received again…"). */
  readonly retriedMessage?: string;
  /**
   * Counts one message that threw, in the caller's metrics, and returns fields its log line adds (an Alma tally, the
   * Alma event id). Runs once per receive that fails or refuses.
   */
  readonly onFailure?: (record: SQSRecord, error: unknown, outcome: SqsFailureOutcome) => Record<string, unknown>;
}

/**
 * An SQS handler that reports partial batch failures (the event source needs
 * `functionResponseType: ReportBatchItemFailures`): the messages that fail come back in `batchItemFailures` and only
 * they are received again, so one bad message never makes the good ones run twice. Messages run in parallel. The
 * one SQS batch handler of the stack: the bulk refresh (apps/refresh-lambdas) and the cache-update functions
 * (apps/sns-lambdas) both use it, so both fail, park and retry alike.
 *
 * Each failure is logged once per receive with its reason, the SQS message id and the receive count, so a message
 * that reaches the DLQ can be traced to why (the DLQ keeps the message id). A batch that fails entirely is reported
 * like any other rather than thrown: the outcome is the same (every message is received again) and the log stays one
 * line per message. The metrics the invocation stored are published once, with the dimension `kind`, also when it
 * throws; when it stored none (a processor that publishes per message), nothing is published and Powertools' empty-publish
 * warning is not printed.
 *
 * A poison message (the domain's InvalidEventError family: malformed, outside the replay horizon, a record that must
 * not be stored) is sent at once to `deadLetterQueue` with its body unchanged and its reason as message attributes
 * (RefusedErrorType, RefusedReason), and then counts as processed: receiving it again could not help. When that send
 * fails, or without a `deadLetterQueue`, it is reported as a batch item failure, as any other failure, and SQS moves
 * it to the DLQ after its last receive: it is never lost.
 *
 * When Alma said when to come back (`AlmaUnavailableError.retryAfterSeconds`), the message is hidden that long with
 * `delay` (ChangeMessageVisibility, capped under SQS's 12 hours) instead of coming back after the queue's visibility
 * timeout; any other failure is hidden for `backoffSeconds(receiveCount)` when that is given. A delay that fails is
 * logged and the message comes back as usual.
 *
 * @example
 * export const handler = createSqsBatchHandler(async (record) => { await refresh(record.body); }, { logger, metrics, kind: 'loan', delay, deadLetterQueue });
 */
export const createSqsBatchHandler = (process: SqsRecordProcessor, options: SqsBatchHandlerOptions) => {
  const { logger, metrics, kind, delay, deadLetterQueue } = options;
  const retriedMessage = options.retriedMessage ?? 'Processing failed: the message will be received again after its visibility timeout';

  /** The seconds to hide a failed message: Alma's Retry-After when it gave one, else the backoff for this receive. */
  const wantedDelay = (
    record: SQSRecord,
    error: unknown,
  ): { seconds: number; why: string; field: 'retryAfterSeconds' | 'backoffSeconds' } | undefined => {
    if (error instanceof InvalidEventError) return undefined;
    const retryAfter = error instanceof AlmaUnavailableError ? error.retryAfterSeconds : undefined;
    if (retryAfter !== undefined && Number.isFinite(retryAfter) && retryAfter > 0)
      return { seconds: retryAfter, why: 'as Alma asked', field: 'retryAfterSeconds' };
    if (!options.backoffSeconds) return undefined;
    const seconds = options.backoffSeconds(Number(record.attributes?.ApproximateReceiveCount ?? 1));
    return Number.isFinite(seconds) && seconds > 0 ? { seconds, why: 'to back off', field: 'backoffSeconds' } : undefined;
  };

  /** The delay applied, or undefined when none was wanted or it could not be applied (then the visibility timeout). */
  const delayFailed = async (record: SQSRecord, error: unknown): Promise<number | undefined> => {
    const wanted = delay ? wantedDelay(record, error) : undefined;
    if (!delay || !wanted) return undefined;
    try {
      return await delay.delay({ queueArn: record.eventSourceARN, receiptHandle: record.receiptHandle }, wanted.seconds);
    } catch (delayError) {
      logger.warn(`Could not delay the message ${wanted.why}: it comes back after the visibility timeout`, {
        messageId: record.messageId,
        [wanted.field]: wanted.seconds,
        error: delayError as Error,
      });
      return undefined;
    }
  };

  /** The DLQ's message id once a poison message is parked there, or undefined when it is not (then it fails as usual). */
  const parkPoison = async (record: SQSRecord, error: unknown): Promise<string | undefined> => {
    if (!deadLetterQueue || !(error instanceof InvalidEventError)) return undefined;
    try {
      return await deadLetterQueue.park(record.body, { errorType: error.name, reason: error.reason }, sendableAttributes(record));
    } catch (parkError) {
      logger.warn('Could not send the poison message to the DLQ: it is reported failed, and SQS moves it there after its last receive', {
        messageId: record.messageId,
        parkError: parkError as Error,
      });
      return undefined;
    }
  };

  const recordHandler = async (record: SQSRecord): Promise<void> => {
    try {
      await process(record);
    } catch (error) {
      const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? 1);
      const parkedMessageId = await parkPoison(record, error);
      if (parkedMessageId !== undefined) {
        const extra = options.onFailure?.(record, error, 'refused') ?? {};
        logger.error(PARKED_MESSAGE, {
          ...describeFailure(error, retriedMessage).details,
          messageId: record.messageId,
          receiveCount,
          parkedMessageId,
          ...extra,
        });
        return;
      }
      const { message, details } = describeFailure(error, retriedMessage);
      const delayedSeconds = await delayFailed(record, error);
      const extra = options.onFailure?.(record, error, 'failed') ?? {};
      logger.error(message, {
        ...details,
        messageId: record.messageId,
        receiveCount,
        ...extra,
        ...(delayedSeconds === undefined ? {} : { delayedSeconds }),
      });
      throw error;
    }
  };

  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    if (context) logger.addContext(context);
    if (kind !== undefined) metrics.addDimension('kind', kind);
    try {
      // One processor per invocation: Lambda runs one at a time in a container, but the local stack's pollers and the
      // bench run several through one handler, and a shared processor would report one batch's failures for another.
      return await processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), { context, throwOnFullBatchFailure: false });
    } finally {
      // A processor that publishes per message (the cache-update functions' `Events`) leaves nothing stored; publishing
      // nothing would print no EMF, only Powertools' "No application metrics to publish" warning, a stderr line per
      // invocation. Then only the invocation's dimensions and metadata are dropped, as the publish would have.
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
      else {
        metrics.clearDimensions();
        metrics.clearMetadata();
      }
    }
  };
};

import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { AlmaRequestError, AlmaUnavailableError, InvalidEventError } from '@alma-cache/cache-domain';
import type { FailureParking, MessageDelay } from '@alma-cache/aws-adapters';
import { tallyOf } from './alma-call-meter';
import { countRefreshFailed, countRefused } from './refresh-metrics';

/** Handles one queue message; resolves when it is done, throws when it should be received again. */
export type SqsRecordProcessor = (record: SQSRecord) => Promise<void>;

/** The log line of a poison message sent straight to the DLQ. */
const PARKED_MESSAGE = 'Poison message: nothing written; sent to the DLQ at once with its reason, not received again';

/**
 * How the failure line reads: what went wrong and what happens to the message next. A poison message lands here only
 * when it could not be sent to the DLQ at once (or the handler has no DLQ).
 */
const describeFailure = (error: unknown): { message: string; details: Record<string, unknown> } => {
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
  return {
    message: 'Refresh failed: the message will be received again after its visibility timeout',
    details: { error: error as Error, retryable: true },
  };
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

/**
 * An SQS handler that reports partial batch failures (the event source needs
 * `functionResponseType: ReportBatchItemFailures`): the messages that fail come back in `batchItemFailures` and only
 * they are received again, so one bad message never makes the good ones run twice. Messages run in parallel; the
 * Alma client's per-container ceiling keeps their requests in check.
 *
 * Each failure is logged once per receive with its reason, the SQS message id and the receive count, so a message
 * that reaches the DLQ can be traced to why (the DLQ keeps the message id). Error messages never hold the API key.
 *
 * A batch that fails entirely is reported like any other rather than thrown: the outcome is the same (every message
 * is received again) and the log stays one line per message.
 *
 * The metrics the processor and the failures counted are published once per invocation, with the dimension
 * `kind` (what this function refreshes), also when the invocation throws.
 *
 * A poison message (the domain's InvalidEventError family: a body that names no patron or record, a record Alma
 * returned that the cache must not store) is sent at once to `deadLetterQueue`, the DLQ of the queue it came from,
 * with its body unchanged and its reason as message attributes (RefusedErrorType, RefusedReason), and then counts as
 * processed (`Refused` metric): receiving it twice more could not help. When that send fails, or without a
 * `deadLetterQueue`, it is reported as a batch item failure, as any other failure, and SQS moves it to the DLQ after
 * its last receive: it is never lost.
 *
 * When Alma said when to come back (Retry-After on a 429 or 503: `AlmaUnavailableError.retryAfterSeconds`), the
 * message is hidden that long with `delay` (ChangeMessageVisibility, capped under SQS's 12 hours) instead of coming
 * back after the queue's visibility timeout: its 3 receives then span Alma's outage instead of being spent in minutes
 * and parking every pending refresh on the DLQ. A delay that fails is logged and the message comes back as usual.
 *
 * @example
 * export const handler = createSqsBatchHandler(async (record) => { await refresh(record.body); }, logger, metrics, 'loan', delay, deadLetterQueue);
 */
export const createSqsBatchHandler = (
  process: SqsRecordProcessor,
  logger: Logger,
  metrics: Metrics,
  kind: string,
  delay?: MessageDelay,
  deadLetterQueue?: FailureParking,
) => {
  // One per container: Lambda runs one invocation at a time in a container, and the processor resets per batch.
  const processor = new BatchProcessor(EventType.SQS);

  /** The delay applied as Alma's Retry-After asked, or undefined when none was asked for or it could not be applied. */
  const delayAsAlmaAsked = async (record: SQSRecord, error: unknown): Promise<number | undefined> => {
    if (!delay || !(error instanceof AlmaUnavailableError)) return undefined;
    const seconds = error.retryAfterSeconds;
    if (seconds === undefined || !Number.isFinite(seconds) || seconds <= 0) return undefined;
    try {
      return await delay.delay({ queueArn: record.eventSourceARN, receiptHandle: record.receiptHandle }, seconds);
    } catch (delayError) {
      logger.warn('Could not delay the message as Alma asked: it comes back after the visibility timeout', {
        messageId: record.messageId,
        retryAfterSeconds: seconds,
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
      const alma = tallyOf(error);
      const parkedMessageId = await parkPoison(record, error);
      if (parkedMessageId !== undefined) {
        const { details } = describeFailure(error);
        logger.error(PARKED_MESSAGE, {
          ...details,
          messageId: record.messageId,
          receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 1),
          parkedMessageId,
          ...(alma ? { almaCalls: alma.calls, almaRetries: alma.retries } : {}),
        });
        countRefused(metrics, alma);
        return;
      }
      const { message, details } = describeFailure(error);
      const delayedSeconds = await delayAsAlmaAsked(record, error);
      logger.error(message, {
        ...details,
        messageId: record.messageId,
        receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 1),
        ...(alma ? { almaCalls: alma.calls, almaRetries: alma.retries } : {}),
        ...(delayedSeconds === undefined ? {} : { delayedSeconds }),
      });
      countRefreshFailed(metrics, alma);
      throw error;
    }
  };

  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    if (context) logger.addContext(context);
    metrics.addDimension('kind', kind);
    try {
      return await processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false });
    } finally {
      metrics.publishStoredMetrics();
    }
  };
};

import { FullBatchFailureError } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { type CacheItemTransition, type CacheChange, InconsistentTransitionError } from '@alma-cache/cache-domain';
import { cacheTransitionOf, InvalidStreamRecordError } from '@alma-cache/aws-adapters';
import { countFailedRecord, countPublished } from './change-metrics';

/** The use case the handler drives: publish what one write changed. */
export interface ChangePublishing {
  execute(transition: CacheItemTransition): Promise<readonly CacheChange[]>;
}

/**
 * Items (loans, requests) whose records are published at once. One SNS Publish takes ~10–20 ms, so one record at a
 * time caps a shard at 50–100 changes/s, which an Alma bulk job at 100 webhooks/s reaches; 10 in flight lifts that
 * about tenfold while staying far below SNS's Publish quota (thousands per second per account and region) and the
 * SDK's 50 sockets.
 */
export const MAX_ITEMS_IN_FLIGHT = 10;

/**
 * A record that was not tried because an earlier record of the same batch failed. Lambda resends the batch from the
 * earliest failure, so publishing records after it now would only publish them twice (and, for the failed record's
 * own item, out of order).
 */
export class HeldBackRecordError extends Error {
  public constructor(
    public readonly sequenceNumber: string | undefined,
    public readonly failedSequenceNumber: string | undefined,
  ) {
    super(`record ${sequenceNumber} held back: record ${failedSequenceNumber} before it in this batch failed`);
    this.name = 'HeldBackRecordError';
  }
}

const isUnreadable = (error: unknown): error is InvalidStreamRecordError | InconsistentTransitionError =>
  error instanceof InvalidStreamRecordError || error instanceof InconsistentTransitionError;

/**
 * The item a record is a write of: its table's stream and its key (the tables' only key attribute, `loan_id` or
 * `request_id`). A record without keys is unreadable; it stands alone and fails on its own.
 */
const itemOf = (record: DynamoDBRecord, index: number): string =>
  record.dynamodb?.Keys ? `${record.eventSourceARN} ${JSON.stringify(record.dynamodb.Keys)}` : `record ${index} without keys`;

/** The batch's records in stream order, grouped by item, the items in the order of their first record. */
const byItem = (records: readonly DynamoDBRecord[]): number[][] => {
  const items = new Map<string, number[]>();
  records.forEach((record, index) => {
    const item = itemOf(record, index);
    const indexes = items.get(item);
    if (indexes) indexes.push(index);
    else items.set(item, [index]);
  });
  return [...items.values()];
};

/**
 * A DynamoDB Streams handler for the Loans and Requests tables that publishes what each write changed, with partial
 * batch failure reporting (the event source needs `functionResponseType: ReportBatchItemFailures`).
 *
 * Ordering: the records of one item (same `loan_id` or `request_id`, the stream's key, which is also all DynamoDB
 * Streams orders by) are published one after the other in stream order, so a patron's events for one loan or
 * request arrive in the order they happened. Records of different items are published concurrently, at most
 * {@link MAX_ITEMS_IN_FLIGHT} items at once; across items there is no order.
 *
 * Failures: once a record fails, no record after it in the batch is started (records of other items already in
 * flight finish), and that record and every record after it in stream order are reported failed, as Lambda resends
 * the batch from the earliest failed sequence number. Records of other items that come later in the batch may have
 * been published already; the resend publishes them again with the same `eventId`, which subscribers drop as
 * duplicates. When the first record fails, every record is reported failed and the batch fails as a whole
 * (`FullBatchFailureError`, with the records' own errors and a {@link HeldBackRecordError} for each record not
 * tried), which is what lets `bisectBatchOnFunctionError` isolate a bad record until retries or record age send it
 * to the on-failure destination and the shard moves on.
 *
 * Each invocation publishes its metrics (ChangesPublished, WritesWithoutChange, RecordsFailed) once, also when the
 * whole batch fails.
 *
 * @example
 * export const handler = createStreamHandler(container.get(TOKENS.PublishCacheChanges), container.get(TOKENS.Logger), container.get(TOKENS.Metrics));
 */
export const createStreamHandler = (publishing: ChangePublishing, logger: Logger, metrics: Metrics) => {
  const publishRecord = async (record: DynamoDBRecord): Promise<void> => {
    const where = { sequenceNumber: record.dynamodb?.SequenceNumber, eventName: record.eventName, eventSourceARN: record.eventSourceARN };
    try {
      const published = await publishing.execute(cacheTransitionOf(record));
      countPublished(metrics, published.length);
      // The change's name and source only: its eventId and recordId carry the loan or request id, and ids stay out of
      // the logs (README, Security); the record's place in the stream finds it.
      for (const change of published) logger.info('Change published', { ...where, change: change.change, source: change.source });
      if (published.length === 0) logger.debug('Write changed nothing a patron sees: nothing published', where);
    } catch (error) {
      countFailedRecord(metrics);
      if (isUnreadable(error)) {
        logger.error('Stream record unreadable: retrying will not help; after the retries it goes to the on-failure queue', {
          ...where,
          errorType: error.name,
          reason: error.reason,
        });
      } else {
        logger.error('Publishing failed: Lambda resends the batch from this record', { ...where, error: error as Error });
      }
      throw error;
    }
  };

  return async (event: DynamoDBStreamEvent, context?: Context): Promise<DynamoDBBatchResponse> => {
    if (context) logger.addContext(context);
    const records = event.Records;
    const sequenceNumberOf = (index: number) => records[index].dynamodb?.SequenceNumber;
    const errors: (Error | undefined)[] = records.map(() => undefined);
    let earliestFailed = records.length; // index in stream order; records.length: none failed

    // One item's records, in stream order, each only if no record before it in the batch has failed (yet).
    const publishItem = async (indexes: readonly number[]): Promise<void> => {
      for (const index of indexes) {
        if (index > earliestFailed) {
          errors[index] = new HeldBackRecordError(sequenceNumberOf(index), sequenceNumberOf(earliestFailed));
          continue;
        }
        try {
          await publishRecord(records[index]);
        } catch (error) {
          errors[index] = error as Error;
          earliestFailed = Math.min(earliestFailed, index);
        }
      }
    };

    try {
      const items = byItem(records);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < items.length) await publishItem(items[next++]);
      };
      await Promise.all(Array.from({ length: Math.min(MAX_ITEMS_IN_FLIGHT, items.length) }, worker));

      if (earliestFailed === 0) throw new FullBatchFailureError(errors.filter((error): error is Error => error !== undefined));
      const batchItemFailures = records
        .slice(earliestFailed)
        .flatMap((record) => (record.dynamodb?.SequenceNumber ? [{ itemIdentifier: record.dynamodb.SequenceNumber }] : []));
      return { batchItemFailures };
    } finally {
      metrics.publishStoredMetrics();
    }
  };
};

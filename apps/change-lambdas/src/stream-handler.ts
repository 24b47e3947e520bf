import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
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
 * A record that was not tried because an earlier record of the same batch failed. Lambda resends the batch from the
 * earliest failure, so publishing records after it now would only publish them twice and out of order.
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
 * A DynamoDB Streams handler for the Loans and Requests tables that publishes what each write changed, with partial
 * batch failure reporting (the event source needs `functionResponseType: ReportBatchItemFailures`).
 *
 * Records run one at a time, in stream order, so a patron's events for one record are published in the order they
 * happened. At the first failure the rest of the batch is held back and reported failed with it: Lambda resends
 * from the earliest failed record either way. When every record fails (the first one did), the batch fails as a
 * whole, which is what lets `bisectBatchOnFunctionError` isolate a bad record until retries or record age send it
 * to the on-failure destination and the shard moves on.
 *
 * Each invocation publishes its metrics (ChangesPublished, WritesWithoutChange, RecordsFailed) once, also when the
 * whole batch fails.
 *
 * @example
 * export const handler = createStreamHandler(container.get(TOKENS.PublishCacheChanges), container.get(TOKENS.Logger), container.get(TOKENS.Metrics));
 */
export const createStreamHandler = (publishing: ChangePublishing, logger: Logger, metrics: Metrics) => {
  // One per container: Lambda runs one invocation at a time in a container, and the processor resets per batch.
  const processor = new BatchProcessor(EventType.DynamoDBStreams);

  return async (event: DynamoDBStreamEvent, context?: Context): Promise<DynamoDBBatchResponse> => {
    if (context) logger.addContext(context);
    let failedAt: { sequenceNumber: string | undefined } | undefined;

    const recordHandler = async (record: DynamoDBRecord): Promise<void> => {
      const sequenceNumber = record.dynamodb?.SequenceNumber;
      if (failedAt) throw new HeldBackRecordError(sequenceNumber, failedAt.sequenceNumber);
      const where = { sequenceNumber, eventName: record.eventName, eventSourceARN: record.eventSourceARN };
      try {
        const published = await publishing.execute(cacheTransitionOf(record));
        countPublished(metrics, published.length);
        for (const change of published) {
          logger.info('Change published', { ...where, eventId: change.eventId, change: change.change, recordId: change.recordId });
        }
        if (published.length === 0) logger.debug('Write changed nothing a patron sees: nothing published', where);
      } catch (error) {
        failedAt = { sequenceNumber };
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

    try {
      return await processPartialResponse(event, recordHandler, processor, { context, processInParallel: false });
    } finally {
      metrics.publishStoredMetrics();
    }
  };
};

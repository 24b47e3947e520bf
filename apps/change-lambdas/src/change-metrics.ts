import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/**
 * The change notifications' metrics, in namespace `AlmaCache`, dimension `service` (alma-cache-changes). Counted per
 * stream record, published once per invocation.
 */
export const CHANGE_METRICS = {
  /** Change notifications published to the cache-changes topic. */
  published: 'ChangesPublished',
  /** Stream records whose write changed nothing a patron sees (a replay, a TTL refresh): nothing published. */
  unchanged: 'WritesWithoutChange',
  /** Stream records that failed (unreadable, or publishing failed); records held back behind them are not counted. */
  failed: 'RecordsFailed',
} as const;

/**
 * Counts one stream record that was handled: the changes it published, or that it had none.
 *
 * @example
 * countPublished(metrics, published.length);
 */
export const countPublished = (metrics: Metrics, changes: number): void => {
  if (changes === 0) metrics.addMetric(CHANGE_METRICS.unchanged, MetricUnit.Count, 1);
  else metrics.addMetric(CHANGE_METRICS.published, MetricUnit.Count, changes);
};

/**
 * Counts one stream record that failed.
 *
 * @example
 * countFailedRecord(metrics);
 */
export const countFailedRecord = (metrics: Metrics): void => {
  metrics.addMetric(CHANGE_METRICS.failed, MetricUnit.Count, 1);
};

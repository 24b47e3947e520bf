import type { WebhookSkip } from '@alma-cache/cache-domain';

/** Counts the webhooks answered 200 without publishing, by why they were skipped. */
export interface SkipCounter {
  count(skip: WebhookSkip): void;
}

/** The CloudWatch namespace of the receiver's metrics. */
export const METRICS_NAMESPACE = 'AlmaCache';
export const SKIPPED_METRIC = 'WebhooksSkipped';

/**
 * A SkipCounter writing CloudWatch embedded metric format (EMF) lines to stdout: Lambda's log pipeline turns each into
 * a `WebhooksSkipped` data point (by service, and by service and skip kind) with no API call on the request's path.
 * Written apart from the logger so that a LOG_LEVEL above INFO does not drop the count.
 *
 * @example
 * const counter = emfSkipCounter('alma-cache-webhooks');
 * counter.count('not-used'); // {"_aws":{…},"service":"alma-cache-webhooks","skip":"not-used","WebhooksSkipped":1}
 */
export const emfSkipCounter = (service: string, write: (line: string) => void = (line) => process.stdout.write(line)): SkipCounter => ({
  count: (skip) => {
    const metric = {
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [{ Namespace: METRICS_NAMESPACE, Dimensions: [['service'], ['service', 'skip']], Metrics: [{ Name: SKIPPED_METRIC, Unit: 'Count' }] }],
      },
      service,
      skip,
      [SKIPPED_METRIC]: 1,
    };
    write(`${JSON.stringify(metric)}\n`);
  },
});

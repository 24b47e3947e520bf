import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { WebhookSkip } from '@alma-cache/cache-domain';

/** Counts the webhooks answered 200 without publishing, by why they were skipped. */
export interface SkipCounter {
  count(skip: WebhookSkip): void;
}

export const SKIPPED_METRIC = 'WebhooksSkipped';

/**
 * A SkipCounter on Powertools Metrics (EMF on stdout, no API call on the request's path): each skip is one
 * `WebhooksSkipped` data point by service and skip kind (the hand-written EMF before it also published a total by
 * service alone; Powertools drops that set beside an added one, and a `SUM` over the kinds gives the same). Published
 * at once, since one invocation handles one webhook; apart from the logger, so a LOG_LEVEL above INFO does not drop
 * the count.
 *
 * @example
 * const counter = metricsSkipCounter(new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'alma-cache-webhooks' }));
 * counter.count('not-used'); // {"_aws":{…},"service":"alma-cache-webhooks","skip":"not-used","WebhooksSkipped":1}
 */
export const metricsSkipCounter = (metrics: Metrics): SkipCounter => ({
  count: (skip) => {
    metrics.addDimension('skip', skip);
    metrics.addMetric(SKIPPED_METRIC, MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
  },
});

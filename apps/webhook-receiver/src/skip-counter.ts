import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { WebhookSkip } from '@alma-cache/cache-domain';

/** Counts the webhooks answered 200 without publishing, by why they were skipped. */
export interface SkipCounter {
  count(skip: WebhookSkip): void;
}

export const SKIPPED_METRIC = 'WebhooksSkipped';
export const PUBLISHED_METRIC = 'WebhooksPublished';
export const REJECTED_METRIC = 'WebhooksRejected';

/**
 * Why a webhook was answered with an error: `signature` (401: missing, malformed or wrong), `not-json` (400: signed,
 * but not UTF-8 text or not a JSON object), `too-large` (413: over SNS's limit, Alma will not resend it),
 * `bad-id` (400: signed, but its `id` fails the identifier rule, so it could never become a message attribute),
 * `publish-failed` (503: the secret or SNS failed or was too slow; Alma resends it), `missing-challenge` (400: a GET
 * without `challenge`).
 */
export type WebhookRejection = 'signature' | 'not-json' | 'bad-id' | 'too-large' | 'publish-failed' | 'missing-challenge';

/** Counts every webhook's fate: published (by event type), skipped (by skip kind) or rejected (by reason). */
export interface WebhookCounter extends SkipCounter {
  published(eventType: string): void;
  rejected(reason: WebhookRejection): void;
}

/**
 * A WebhookCounter on Powertools Metrics (EMF on stdout, no API call on the request's path): each skip is one
 * `WebhooksSkipped` data point by service and skip kind (the hand-written EMF before it also published a total by
 * service alone; Powertools drops that set beside an added one, and a `SUM` over the kinds gives the same), each
 * publish one `WebhooksPublished` by `eventType`, each error answer one `WebhooksRejected` by `reason`. Published
 * at once, since one invocation handles one webhook; apart from the logger, so a LOG_LEVEL above INFO does not drop
 * the count.
 *
 * @example
 * const counter = metricsSkipCounter(new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'alma-cache-webhooks' }));
 * counter.count('not-used'); // {"_aws":{…},"service":"alma-cache-webhooks","skip":"not-used","WebhooksSkipped":1}
 */
export const metricsSkipCounter = (metrics: Metrics): WebhookCounter => {
  const countOne = (metric: string, dimension: string, value: string) => {
    metrics.addDimension(dimension, value);
    metrics.addMetric(metric, MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
  };
  return {
    count: (skip) => countOne(SKIPPED_METRIC, 'skip', skip),
    published: (eventType) => countOne(PUBLISHED_METRIC, 'eventType', eventType),
    rejected: (reason) => countOne(REJECTED_METRIC, 'reason', reason),
  };
};

import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { AlmaTally } from './alma-call-meter';

/**
 * The bulk refresh's metrics, in namespace `AlmaCache`, dimensions `service` (alma-cache-refresh) and `kind`
 * (user | loan | request | fee: what the function refreshes). Counted per message, published once per invocation.
 */
export const REFRESH_METRICS = {
  /** A patron or record read from Alma and written to the cache. */
  refreshed: 'Refreshed',
  /** Alma no longer has the patron or record: the cache now holds its removal. */
  notFound: 'NotFoundInAlma',
  /** A message that failed this receive (it comes back, or goes to the DLQ after its last). */
  failed: 'RefreshFailed',
  /** A poison message refused and sent straight to the DLQ: counted once, it is not received again. */
  refused: 'Refused',
  /** HTTP requests sent to Alma, retries included. */
  almaCalls: 'AlmaCalls',
  /** Of those, repeats of a failed attempt (429, 5xx, timeout). */
  almaRetries: 'AlmaRetries',
  /** Alma replies 429 (its per-second threshold) that the client waited on and retried; dimension `service` only. */
  almaThrottled: 'AlmaThrottled',
} as const;

const countAlma = (metrics: Metrics, tally: AlmaTally): void => {
  metrics.addMetric(REFRESH_METRICS.almaCalls, MetricUnit.Count, tally.calls);
  metrics.addMetric(REFRESH_METRICS.almaRetries, MetricUnit.Count, tally.retries);
};

/**
 * Counts one message that completed: refreshed or not found, and the Alma requests it took.
 *
 * @example
 * countRefreshed(metrics, outcome.result === 'refreshed', { calls, retries });
 */
export const countRefreshed = (metrics: Metrics, found: boolean, tally: AlmaTally): void => {
  metrics.addMetric(found ? REFRESH_METRICS.refreshed : REFRESH_METRICS.notFound, MetricUnit.Count, 1);
  countAlma(metrics, tally);
};

/**
 * Counts one message that failed this receive, with the Alma requests it made before it gave up (when known).
 *
 * @example
 * countRefreshFailed(metrics, tallyOf(error));
 */
export const countRefreshFailed = (metrics: Metrics, tally: AlmaTally | undefined): void => {
  metrics.addMetric(REFRESH_METRICS.failed, MetricUnit.Count, 1);
  if (tally) countAlma(metrics, tally);
};

/**
 * Counts one poison message sent straight to the DLQ, with the Alma requests it made before it was refused (when
 * known: a record Alma returned that the cache must not store).
 *
 * @example
 * countRefused(metrics, tallyOf(error));
 */
export const countRefused = (metrics: Metrics, tally: AlmaTally | undefined): void => {
  metrics.addMetric(REFRESH_METRICS.refused, MetricUnit.Count, 1);
  if (tally) countAlma(metrics, tally);
};

/**
 * Counts one 429 from Alma, at once and with the `service` dimension only (not `kind`), so one alarm covers the four
 * functions (alma-cache-refresh-<stage>-alma-throttled). Called from the Alma client's `onRetry`.
 *
 * @example
 * onRetry: (info) => { if (info.reason === 429) countAlmaThrottled(metrics); }
 */
export const countAlmaThrottled = (metrics: Metrics): void => {
  metrics.singleMetric().addMetric(REFRESH_METRICS.almaThrottled, MetricUnit.Count, 1);
};

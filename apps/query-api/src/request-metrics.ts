import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/**
 * The query API's metrics, in namespace `AlmaCache`, dimensions `service` (alma-cache-query), `route` (the route's
 * operationId, e.g. `getPatron`) and `outcome`. One document per request, published when the answer is made.
 */
export const REQUEST_METRICS = {
  /** Every request a route answered, by what the answer was. */
  requests: 'Requests',
  /** A request the cache could not answer, answered from Alma instead (always with `outcome` `miss`). */
  almaFallbacks: 'AlmaFallbacks',
  /** A 429 answer because Alma throttled the key (outcome `throttled`), with the `service` dimension only: one alarm. */
  almaThrottled: 'AlmaThrottled',
} as const;

/**
 * What became of one request, as operators read it: `hit` / `miss` are a 2xx answered from the cache / from Alma
 * (the `x-cache` header), `queued` a refresh accepted (202, no cache involved); the others name the error status.
 */
export type RequestOutcome =
  'hit' | 'miss' | 'queued' | 'not-found' | 'throttled' | 'unavailable' | 'forbidden' | 'unauthorized' | 'bad-request' | 'error';

const OUTCOME_OF_STATUS: Readonly<Record<number, RequestOutcome>> = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  429: 'throttled',
  503: 'unavailable',
};

/**
 * The metric outcome of an answer, from its status and the `x-cache` header the handlers set on cache reads.
 * Undefined (no answer at all) and any status without an outcome of its own count as `error`.
 *
 * @example
 * requestOutcomeOf({ statusCode: 200, headers: { 'x-cache': 'miss' } }); // 'miss'
 */
export const requestOutcomeOf = (response: Pick<APIGatewayProxyStructuredResultV2, 'statusCode' | 'headers'> | undefined): RequestOutcome => {
  const status = response?.statusCode;
  if (status === undefined) return 'error';
  if (status >= 200 && status < 300) {
    const cache = response?.headers?.['x-cache'];
    if (cache === 'hit') return 'hit';
    if (cache === 'miss') return 'miss';
    return 'queued';
  }
  return OUTCOME_OF_STATUS[status] ?? 'error';
};

/**
 * Counts one request into `Requests` (and `AlmaFallbacks` for a miss) by route and outcome, and publishes at once:
 * the dimensions are this request's, and a local server sharing one Metrics between concurrent requests never mixes
 * two (adding and publishing happen without an `await` between them).
 *
 * @example
 * countRequest(metrics, 'getPatron', response);
 */
export const countRequest = (metrics: Metrics, route: string, response: APIGatewayProxyStructuredResultV2 | undefined): RequestOutcome => {
  const outcome = requestOutcomeOf(response);
  metrics.addDimension('route', route);
  metrics.addDimension('outcome', outcome);
  metrics.addMetric(REQUEST_METRICS.requests, MetricUnit.Count, 1);
  if (outcome === 'miss') metrics.addMetric(REQUEST_METRICS.almaFallbacks, MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
  if (outcome === 'throttled') metrics.singleMetric().addMetric(REQUEST_METRICS.almaThrottled, MetricUnit.Count, 1);
  return outcome;
};

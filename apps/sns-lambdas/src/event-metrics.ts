import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { AlmaEventType, ExtraAlmaEventType, type SyncOutcome } from '@alma-cache/cache-domain';

/** The metric every event counts into: `AlmaCache / Events`, dimensions `service`, `eventType`, `outcome`. */
export const EVENTS_METRIC = 'Events';

/**
 * What became of one event, as operators read it. One per event: a stale event is only stale, a duplicate only a
 * duplicate (even when its redelivery re-sent a refresh request), a refresh only counts when the patron was unknown.
 * `refused`: invalid, parked on the failure queue at once and not retried, so it counts once. `failed`: one attempt
 * that threw (a transient failure, or a refusal that could not be parked); Lambda retries it, so one event that ends
 * on the failure queue that way counts three.
 */
export type EventOutcome = 'written' | 'stale-skipped' | 'duplicate' | 'refresh-queued' | 'refresh-coalesced' | 'refused' | 'failed';

/** `eventType` for events whose type is unknown or not one we handle: malformed input must not mint dimensions. */
export const UNKNOWN_EVENT_TYPE = 'unknown';

const KNOWN_EVENT_TYPES: ReadonlySet<string> = new Set([...Object.values(AlmaEventType), ...Object.values(ExtraAlmaEventType)]);

/**
 * The metric outcome of an applied event, from the use case's outcome.
 *
 * @example
 * eventOutcomeOf({ event, item: 'written', user: 'refresh-requested' }); // 'refresh-queued'
 */
export const eventOutcomeOf = (outcome: Pick<SyncOutcome, 'item' | 'user'>): EventOutcome => {
  if (outcome.item === 'stale') return 'stale-skipped';
  if (outcome.item === 'duplicate') return 'duplicate';
  if (outcome.user === 'refresh-requested') return 'refresh-queued';
  if (outcome.user === 'refresh-already-requested') return 'refresh-coalesced';
  return 'written';
};

/**
 * The `eventType` dimension of a message the use case may have refused: its `event.value` when that is an Alma
 * type the stack knows, otherwise {@link UNKNOWN_EVENT_TYPE}.
 *
 * @example
 * eventTypeDimension('LOAN_CREATED'); // 'LOAN_CREATED'
 * eventTypeDimension(42); // 'unknown'
 */
export const eventTypeDimension = (value: unknown): string =>
  typeof value === 'string' && KNOWN_EVENT_TYPES.has(value) ? value : UNKNOWN_EVENT_TYPE;

/**
 * Counts one event into `Events` with its type and outcome, and publishes at once: SNS hands a function one event
 * per invocation, so the dimensions are the invocation's, and publishing here (also on failure) means nothing is
 * lost when the handler then throws.
 *
 * @example
 * countEvent(metrics, 'LOAN_CREATED', 'written');
 */
export const countEvent = (metrics: Metrics, eventType: string, outcome: EventOutcome): void => {
  metrics.addDimension('eventType', eventType);
  metrics.addDimension('outcome', outcome);
  metrics.addMetric(EVENTS_METRIC, MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
};

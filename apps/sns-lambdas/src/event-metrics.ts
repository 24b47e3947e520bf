import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { AlmaEventType, ExtraAlmaEventType, type SyncOutcome } from '@alma-cache/cache-domain';

/** The metric every event counts into: `AlmaCache / Events`, dimensions `service`, `eventType`, `outcome`. */
export const EVENTS_METRIC = 'Events';

/**
 * What became of one event, as operators read it. One per event: a stale event is only stale, a duplicate only a
 * duplicate (even when its redelivery re-sent a refresh request), a refresh only counts when the patron was unknown.
 * `refused`: invalid, sent to the function's DLQ at once and not received again, so it counts once. `failed`: one
 * receive that failed (a transient failure, or a refusal the DLQ did not take); the message comes back after its
 * backoff, so one event that reaches the DLQ after the queue's last receive counts `failed` once per receive.
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
 * Counts one event into `Events` with its type and outcome, and publishes at once: the events of one batch differ in
 * type and outcome, and the dimensions are set per publish, so each event is published with its own.
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

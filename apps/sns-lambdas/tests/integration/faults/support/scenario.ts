import type { AlmaEventType } from '@alma-cache/cache-domain';
import { almaWebhooks } from '@alma-cache/cache-domain/testing';
import type { SeededRandom } from './prng';

/** One webhook as Alma sends it, with what the truth model needs to know about it. */
export interface ScenarioEvent {
  readonly eventId: string;
  readonly type: AlmaEventType;
  readonly kind: 'loan' | 'request';
  readonly itemId: string;
  /** As Alma sends it (mixed case); the Users table key is its lower-cased form. */
  readonly userPrimaryId: string;
  /** ISO-8601 with milliseconds, strictly increasing within one item's life. */
  readonly time: string;
  readonly removal: boolean;
  /** The field each event changes (`due_date` of a loan, `request_status` of a request), to check the latest state won. */
  readonly stateField: string;
  readonly stateValue: string;
  /** The SNS message: the full webhook body. */
  readonly message: string;
}

export interface ScenarioSize {
  cachedPatrons: number;
  unknownPatrons: number;
  loansPerPatron: [number, number];
  requestsPerPatron: [number, number];
  /** Item lives start within this many minutes of the scenario's start. */
  spreadMinutes: number;
}

export interface Scenario {
  /** Cached patrons' primary ids as Alma sends them. */
  readonly cachedPatrons: readonly string[];
  readonly unknownPatrons: readonly string[];
  /** Every distinct event, in Alma time order. */
  readonly events: readonly ScenarioEvent[];
}

// Inside the replay horizon of the harness's clock (SAMPLES_RECEIVED_AT, 2026-12-10T17:00Z), and hours before it.
const START = Date.parse('2026-12-01T08:00:00.000Z');
const MINUTE = 60_000;

const LOAN_FIELD = 'due_date';
const REQUEST_FIELD = 'request_status';

/**
 * Generates patrons and whole lives of their loans (created → renewed / due date changed → returned, or still out)
 * and requests (created → on the hold shelf → closed, or canceled, or still open), as Alma would send them.
 *
 * @example
 * const scenario = generateScenario(seededRandom(7), { cachedPatrons: 300, unknownPatrons: 30, … });
 */
export const generateScenario = (random: SeededRandom, size: ScenarioSize): Scenario => {
  let nextEventId = 0;
  let nextItemId = 0;
  const events: ScenarioEvent[] = [];
  const cachedPatrons = Array.from({ length: size.cachedPatrons }, (_, n) => `Pat${String(n).padStart(5, '0')}X`);
  const unknownPatrons = Array.from({ length: size.unknownPatrons }, (_, n) => `NEW${String(n).padStart(5, '0')}q`);

  const life = (kind: 'loan' | 'request', userPrimaryId: string, steps: readonly { type: AlmaEventType; value: string }[]) => {
    nextItemId += 1;
    const itemId = `${kind === 'loan' ? '73' : '88'}${String(nextItemId).padStart(12, '0')}`;
    let at = START + random.int(0, size.spreadMinutes * MINUTE);
    for (const step of steps) {
      // A second to ten minutes between an item's events: close enough that reordering mixes them up.
      at += random.int(1_000, 10 * MINUTE);
      nextEventId += 1;
      const eventId = `66${String(nextEventId).padStart(8, '0')}`;
      const time = new Date(at).toISOString();
      const removal = step.type === 'LOAN_RETURNED' || step.type === 'REQUEST_CLOSED' || step.type === 'REQUEST_CANCELED';
      events.push({
        eventId,
        type: step.type,
        kind,
        itemId,
        userPrimaryId,
        time,
        removal,
        stateField: kind === 'loan' ? LOAN_FIELD : REQUEST_FIELD,
        stateValue: step.value,
        message: webhookBody(step.type, { eventId, time, kind, itemId, userPrimaryId, stateValue: step.value }),
      });
    }
  };

  for (const patron of [...cachedPatrons, ...unknownPatrons]) {
    for (let n = random.int(...size.loansPerPatron); n > 0; n -= 1) life('loan', patron, loanSteps(random));
    for (let n = random.int(...size.requestsPerPatron); n > 0; n -= 1) life('request', patron, requestSteps(random));
  }
  events.sort((a, b) => a.time.localeCompare(b.time) || a.eventId.localeCompare(b.eventId));
  return { cachedPatrons, unknownPatrons, events };
};

const loanSteps = (random: SeededRandom) => {
  let due = Date.parse('2026-12-01T23:59:00.000Z') + random.int(0, 20) * 24 * 60 * MINUTE;
  const dueDate = () => new Date(due).toISOString();
  const steps: { type: AlmaEventType; value: string }[] = [{ type: 'LOAN_CREATED', value: dueDate() }];
  for (let n = random.int(0, 3); n > 0; n -= 1) {
    due += random.int(1, 28) * 24 * 60 * MINUTE;
    steps.push({ type: random.chance(0.6) ? 'LOAN_RENEWED' : 'LOAN_DUE_DATE', value: dueDate() });
  }
  if (random.chance(0.6)) steps.push({ type: 'LOAN_RETURNED', value: dueDate() });
  return steps;
};

const requestSteps = (random: SeededRandom) => {
  const steps: { type: AlmaEventType; value: string }[] = [{ type: 'REQUEST_CREATED', value: 'NOT_STARTED' }];
  if (random.chance(0.3)) return [...steps, { type: 'REQUEST_CANCELED' as const, value: 'CANCELED' }];
  if (random.chance(0.8)) steps.push({ type: 'REQUEST_PLACED_ON_SHELF', value: 'ON_HOLD_SHELF' });
  if (random.chance(0.7)) steps.push({ type: 'REQUEST_CLOSED', value: 'HISTORY' });
  return steps;
};

/** A sample webhook of the type, re-addressed to this event: ids, time, patron, and the field the event changes. */
const webhookBody = (
  type: AlmaEventType,
  e: { eventId: string; time: string; kind: 'loan' | 'request'; itemId: string; userPrimaryId: string; stateValue: string },
): string => {
  const body = structuredClone(almaWebhooks[type]) as Record<string, unknown>;
  body['id'] = e.eventId;
  body['time'] = e.time;
  if (e.kind === 'loan') {
    const loan = body['item_loan'] as Record<string, unknown>;
    Object.assign(loan, { loan_id: e.itemId, user_id: e.userPrimaryId, [LOAN_FIELD]: e.stateValue });
  } else {
    const request = body['user_request'] as Record<string, unknown>;
    Object.assign(request, { request_id: e.itemId, user_primary_id: e.userPrimaryId, [REQUEST_FIELD]: e.stateValue });
  }
  return JSON.stringify(body);
};

import type { AlmaEventType } from '@alma-cache/cache-domain';
import { almaWebhooks } from '@alma-cache/cache-domain/testing';
import { type FakeAlmaPatron, type FakeAlmaRecord, generateLoan, generatePatron, generateRequest } from '@alma-cache/alma-api/testing';

/**
 * The mix of a semester start, in percent of the events generated: mostly loans going out, coming back and being
 * renewed, some holds. An event whose record does not exist yet for the chosen patron (a return with nothing out)
 * becomes its kind's creation instead, so the mix sent is reported from what was really sent.
 */
export const EVENT_MIX: Readonly<Record<AlmaEventType, number>> = {
  LOAN_CREATED: 28,
  LOAN_RENEWED: 20,
  LOAN_RETURNED: 24,
  LOAN_DUE_DATE: 6,
  REQUEST_CREATED: 9,
  REQUEST_PLACED_ON_SHELF: 6,
  REQUEST_CLOSED: 4,
  REQUEST_CANCELED: 3,
};

/**
 * The least time between two events of one record. Alma's own events for one loan are seconds apart at the least (a
 * person at a desk); the load's reordering is its late deliveries, not two events of a record in the same millisecond.
 */
export const MIN_RECORD_GAP_MS = 2_000;

/** Alma's first-page limit and the generator's: ids stay below fakeRecordId's 99,999 per kind and patron. */
const MAX_RECORDS_PER_KIND = 90_000;
const DAY_MS = 86_400_000;

/** A small seeded PRNG (mulberry32): the same seed gives the same scenario, so a run can be repeated. */
export class SeededRandom {
  private state: number;

  public constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** In [0, 1). */
  public next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A whole number in [min, max]. */
  public int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  public chance(share: number): boolean {
    return this.next() < share;
  }

  public pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
}

/** One webhook of the scenario: what the model needs to know of it, and the body Alma would send. */
export interface LoadEvent {
  readonly eventId: string;
  readonly type: AlmaEventType;
  readonly kind: 'loan' | 'request';
  readonly itemId: string;
  /** As Alma sends it; the cache key is its lower-cased form. */
  readonly patron: string;
  /** Alma's event time, ISO-8601 with ms. */
  readonly time: string;
  readonly removal: boolean;
  readonly body: string;
}

interface RecordLife {
  readonly kind: 'loan' | 'request';
  readonly patron: FakeAlmaPatron;
  readonly id: string;
  lastEventAt: number;
}

/**
 * The patrons of one load run as the fake Alma holds them (a few loans, requests and fees each, as `npm start
 * --alma-patrons` seeds them), ids `L<tag>P00000`… so that runs at several rates on one stack never share a patron.
 *
 * @example
 * loadPatrons('1', 300)[0].primaryId; // 'L1P00000'
 */
export const loadPatrons = (tag: string, count: number): FakeAlmaPatron[] =>
  Array.from({ length: count }, (_, i) =>
    generatePatron(`L${tag}P${String(i).padStart(5, '0')}`, { loans: 1 + (i % 3), requests: i % 2, fees: i % 5 === 0 ? 1 : 0 }),
  );

/**
 * Generates the events of a semester start one at a time, as Alma would: each event first changes the patron's
 * records on the fake Alma (the arrays the server answers from), then becomes the webhook Alma sends about it. So the
 * fake Alma always holds the state the events imply, and a refresh racing the webhooks reads what Alma would answer.
 *
 * @example
 * const scenario = new BurstScenario(new SeededRandom(1), loadPatrons('1', 300), 'run1');
 * const event = scenario.next(Date.now()); // e.g. LOAN_CREATED for L1P00042
 */
export class BurstScenario {
  /** Every event generated, in generation (Alma time) order. */
  public readonly events: LoadEvent[] = [];
  private readonly lives = new Map<string, RecordLife>();
  private readonly nextIndex = new Map<string, { loan: number; request: number }>();
  private readonly mix: [AlmaEventType, number][];
  private sequence = 0;

  public constructor(
    private readonly random: SeededRandom,
    private readonly patrons: readonly FakeAlmaPatron[],
    /** Digits that make this run's Alma event ids its own. */
    private readonly eventIdPrefix: string,
  ) {
    if (!/^\d{1,8}$/.test(eventIdPrefix)) throw new RangeError(`eventIdPrefix must be 1 to 8 digits, not "${eventIdPrefix}"`);
    let total = 0;
    this.mix = (Object.entries(EVENT_MIX) as [AlmaEventType, number][]).map(([type, weight]) => [type, (total += weight)]);
    for (const patron of patrons) {
      this.nextIndex.set(patron.primaryId, { loan: patron.loans.length, request: patron.requests.length });
      for (const loan of patron.loans) this.track('loan', patron, String(loan['loan_id']), 0);
      for (const request of patron.requests) this.track('request', patron, String(request['request_id']), 0);
    }
  }

  /** The next event at wall time `now` (ms): Alma's state changed, and this is its webhook. */
  public next(now: number): LoadEvent {
    const patron = this.random.pick(this.patrons);
    const wanted = this.pickType();
    const event = this.eventFor(wanted, patron, now);
    this.events.push(event);
    return event;
  }

  private pickType(): AlmaEventType {
    const roll = this.random.next() * this.mix[this.mix.length - 1][1];
    return (this.mix.find(([, upTo]) => roll < upTo) ?? this.mix[0])[0];
  }

  private track(kind: 'loan' | 'request', patron: FakeAlmaPatron, id: string, at: number) {
    this.lives.set(id, { kind, patron, id, lastEventAt: at });
  }

  /** A record of the patron, in Alma now, that may take this event (not touched within MIN_RECORD_GAP_MS). */
  private candidate(patron: FakeAlmaPatron, type: AlmaEventType, now: number): FakeAlmaRecord | undefined {
    const ready = (id: unknown) => (this.lives.get(String(id))?.lastEventAt ?? 0) <= now - MIN_RECORD_GAP_MS;
    const pool = type.startsWith('LOAN_')
      ? patron.loans.filter((loan) => ready(loan['loan_id']))
      : patron.requests.filter(
          (request) =>
            ready(request['request_id']) &&
            (type === 'REQUEST_PLACED_ON_SHELF' || type === 'REQUEST_CANCELED' ? request['request_status'] === 'NOT_STARTED' : true),
        );
    return pool.length === 0 ? undefined : this.random.pick(pool);
  }

  private eventFor(wanted: AlmaEventType, patron: FakeAlmaPatron, now: number): LoadEvent {
    const creation = wanted.startsWith('LOAN_') ? 'LOAN_CREATED' : 'REQUEST_CREATED';
    const existing = wanted === creation ? undefined : this.candidate(patron, wanted, now);
    const indexes = this.nextIndex.get(patron.primaryId)!;
    const type: AlmaEventType = existing ? wanted : creation;
    const kind = type.startsWith('LOAN_') ? 'loan' : 'request';
    if (!existing && indexes[kind] >= MAX_RECORDS_PER_KIND) throw new RangeError(`patron ${patron.primaryId} has ${MAX_RECORDS_PER_KIND} ${kind}s`);
    const time = new Date(now).toISOString();
    let record: FakeAlmaRecord;
    let removal = false;
    switch (type) {
      case 'LOAN_CREATED': {
        const index = indexes.loan++;
        record = { ...generateLoan(patron.primaryId, index), loan_date: time, due_date: dueDate(now + 28 * DAY_MS) };
        patron.loans.push(record);
        break;
      }
      case 'REQUEST_CREATED': {
        const index = indexes.request++;
        record = { ...generateRequest(patron.primaryId, index), request_status: 'NOT_STARTED', request_time: time };
        patron.requests.push(record);
        break;
      }
      case 'LOAN_RENEWED':
        record = Object.assign(existing!, {
          due_date: dueDate(Date.parse(String(existing!['due_date'])) + 14 * DAY_MS),
          last_renew_date: time.replace(/\.\d{3}Z$/, 'Z'),
          last_renew_status: { value: 'RENEWED', desc: 'Renewed successfully' },
        });
        break;
      case 'LOAN_DUE_DATE':
        record = Object.assign(existing!, { due_date: dueDate(Date.parse(String(existing!['due_date'])) - 7 * DAY_MS) });
        break;
      case 'REQUEST_PLACED_ON_SHELF':
        record = Object.assign(existing!, { request_status: 'ON_HOLD_SHELF' });
        break;
      case 'LOAN_RETURNED':
      case 'REQUEST_CLOSED':
      case 'REQUEST_CANCELED': {
        // Alma no longer lists it: a refresh from now on finds it gone, the webhook leaves a tombstone.
        const list = kind === 'loan' ? patron.loans : patron.requests;
        list.splice(list.indexOf(existing!), 1);
        record = { ...existing!, ...(kind === 'loan' ? { loan_status: 'COMPLETE', return_date: time } : { request_status: 'HISTORY' }) };
        removal = true;
        break;
      }
    }
    const itemId = String(record[kind === 'loan' ? 'loan_id' : 'request_id']);
    const life = this.lives.get(itemId);
    if (life) life.lastEventAt = now;
    else this.track(kind, patron, itemId, now);
    this.sequence += 1;
    const eventId = `${this.eventIdPrefix}${String(this.sequence).padStart(8, '0')}`;
    const body = structuredClone(almaWebhooks[type]) as Record<string, unknown>;
    body['id'] = eventId;
    body['time'] = time;
    body[kind === 'loan' ? 'item_loan' : 'user_request'] = structuredClone(record);
    return { eventId, type, kind, itemId, patron: patron.primaryId, time, removal, body: JSON.stringify(body) };
  }
}

const dueDate = (ms: number) => new Date(ms).toISOString().replace(/T.*/, 'T23:59:00Z');

import type { FakeAlmaPatron } from '@alma-cache/alma-api/testing';
import type { LoadEvent } from './scenario';

type Row = Readonly<Record<string, unknown>>;
type Kind = 'loan' | 'request' | 'fee';

/** The cache as scanned at the end of a run: each table's items by key (Users by the lower-cased primary id). */
export interface CacheSnapshot {
  readonly users: ReadonlyMap<string, Row>;
  readonly loans: ReadonlyMap<string, Row>;
  readonly requests: ReadonlyMap<string, Row>;
  readonly fees: ReadonlyMap<string, Row>;
}

/** One way the cache differs from the model. */
export interface Difference {
  /** `lost`: something the events or Alma imply is missing or older than it should be; `wrong`: anything else. */
  readonly verdict: 'lost' | 'wrong';
  readonly patron: string;
  readonly what: string;
}

export interface ModelCheck {
  readonly patronsChecked: number;
  readonly recordsChecked: number;
  readonly lost: readonly Difference[];
  readonly wrong: readonly Difference[];
}

const KINDS: readonly { kind: Kind; list: 'loans' | 'requests' | 'fees'; almaId: string; idsAttribute: string; fields: readonly string[] }[] = [
  { kind: 'loan', list: 'loans', almaId: 'loan_id', idsAttribute: 'loan_ids', fields: ['due_date', 'loan_status'] },
  { kind: 'request', list: 'requests', almaId: 'request_id', idsAttribute: 'request_ids', fields: ['request_status'] },
  { kind: 'fee', list: 'fees', almaId: 'id', idsAttribute: 'fee_ids', fields: ['balance'] },
];

const idsOf = (value: unknown): Set<string> =>
  value instanceof Set ? new Set([...value].map(String)) : Array.isArray(value) ? new Set(value.map(String)) : new Set();

/**
 * Checks the final cache against the model of the run, record by record. The model: Alma's final state (the fake
 * Alma's arrays, which every event changed before its webhook was sent) and, per record an event touched, its latest
 * event by Alma time.
 *
 * - Every patron that must be cached (pre-cached, or unknown and sent at least one webhook, which queues a refresh),
 *   and every patron the cache holds as refreshed, has a User row with `refreshed_at` whose id sets equal the ids
 *   Alma lists, and each listed record is live in its table with Alma's values (due date and status, a request's
 *   status, a fee's balance).
 * - Every record an event touched is at least as new as its latest event (`alma_event_time`), and is that event's
 *   version unless a refresh wrote it later (`REFRESH`, dated after that event, so holding Alma's state at or past it).
 * - A record whose latest event removed it is a tombstone.
 *
 * - `delivered` (default: `events`) are every event sent at least once: a record may hold one of them that is newer
 *   than its latest answered event, since the receiver can publish an event and still answer too late for the sender.
 *
 * A difference is `lost` when something is missing or older than the latest event (an event not applied), `wrong`
 * otherwise (a live record that should be gone, an id linked that Alma does not list, another value).
 *
 * @example
 * const check = checkCache(patrons, events, mustBeCached, snapshot);
 * check.lost.length === 0 && check.wrong.length === 0; // the cache equals the model
 */
export const checkCache = (
  patrons: readonly FakeAlmaPatron[],
  events: readonly LoadEvent[],
  mustBeCached: ReadonlySet<string>,
  cache: CacheSnapshot,
  delivered: readonly LoadEvent[] = events,
): ModelCheck => {
  const lost: Difference[] = [];
  const wrong: Difference[] = [];
  const differ = (verdict: Difference['verdict'], patron: string, what: string) =>
    (verdict === 'lost' ? lost : wrong).push({ verdict, patron, what });
  const tables: Record<Kind, ReadonlyMap<string, Row>> = { loan: cache.loans, request: cache.requests, fee: cache.fees };
  const latest = new Map<string, LoadEvent>();
  for (const event of events) {
    const known = latest.get(event.itemId);
    if (!known || event.time > known.time) latest.set(event.itemId, event);
  }
  // A delivery the receiver published but answered too late (or not at all) still reaches the cache: a record may hold
  // such an event when it is of the same record and newer than the latest answered one.
  const deliveredById = new Map(delivered.map((event) => [event.eventId, event]));
  const newerDelivered = (row: Row, latestAnswered: LoadEvent): boolean => {
    const held = deliveredById.get(String(row['alma_event_id']));
    return held !== undefined && held.itemId === latestAnswered.itemId && held.time > latestAnswered.time;
  };
  let patronsChecked = 0;
  let recordsChecked = 0;

  for (const patron of patrons) {
    const key = patron.primaryId.toLowerCase();
    const user = cache.users.get(key);
    const refreshed = user !== undefined && typeof user['refreshed_at'] === 'string';
    if (!refreshed) {
      if (mustBeCached.has(patron.primaryId))
        differ('lost', patron.primaryId, user ? 'User row still a placeholder (no refreshed_at)' : 'no User row');
      continue;
    }
    patronsChecked += 1;
    for (const { kind, list, almaId, idsAttribute, fields } of KINDS) {
      const listed = new Map(patron[list].map((record) => [String(record[almaId]), record]));
      const linked = idsOf(user[idsAttribute]);
      for (const id of listed.keys()) if (!linked.has(id)) differ('lost', patron.primaryId, `${kind} ${id} listed by Alma, not in ${idsAttribute}`);
      for (const id of linked) if (!listed.has(id)) differ('wrong', patron.primaryId, `${kind} ${id} in ${idsAttribute}, not listed by Alma`);
      for (const [id, record] of listed) {
        recordsChecked += 1;
        const row = tables[kind].get(id);
        if (!row) {
          differ('lost', patron.primaryId, `${kind} ${id} listed by Alma, not in the table`);
          continue;
        }
        const off = fields.filter((field) => String(row[field]) !== String(record[field]));
        if (row['tombstone'] === true) differ('wrong', patron.primaryId, `${kind} ${id} is a tombstone, Alma lists it`);
        else if (off.length > 0) {
          const event = latest.get(id);
          const older = event !== undefined && String(row['alma_event_time']) < event.time;
          differ(
            older ? 'lost' : 'wrong',
            patron.primaryId,
            `${kind} ${id}: ${off.map((field) => `${field} ${String(row[field])}, Alma ${String(record[field])}`).join('; ')}`,
          );
        }
      }
    }
  }

  for (const [id, event] of latest) {
    recordsChecked += 1;
    const row = (event.kind === 'loan' ? cache.loans : cache.requests).get(id);
    if (!row) {
      differ('lost', event.patron, `${event.kind} ${id}: no record (latest event ${event.type} ${event.eventId})`);
      continue;
    }
    const time = String(row['alma_event_time']);
    if (time < event.time)
      differ('lost', event.patron, `${event.kind} ${id}: version of ${time}, older than its latest event ${event.type} at ${event.time}`);
    else if (row['alma_event_type'] !== 'REFRESH' && row['alma_event_id'] !== event.eventId && !newerDelivered(row, event))
      differ('wrong', event.patron, `${event.kind} ${id}: event ${String(row['alma_event_id'])}, latest event is ${event.eventId}`);
    if (event.removal && row['tombstone'] !== true)
      differ('wrong', event.patron, `${event.kind} ${id}: live, its latest event ${event.type} removed it`);
  }
  return { patronsChecked, recordsChecked, lost, wrong };
};

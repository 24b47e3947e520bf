import type { AlmaRecord } from '../shared/alma-api.port';
import { userCacheKey } from '../shared/alma-event';
import { ITEM_KINDS, ITEM_SHAPES, type ItemKind } from '../shared/cache-record';
import type { CachedUser } from '../shared/cached-user';
import { recordFieldsProblem, recordOwner } from '../shared/record-fields';
import type { AuditedRecord } from './cache-audit-reader.port';

/**
 * How a record of the cache differs from Alma:
 * - `missing`: Alma lists it, readers of the cache do not see it. `not-cached`: no record stored; `tombstoned`: stored
 *   as removed; `not-linked`: stored, but not in the patron's id set; `removed-id`: and the patron's removed ids hold it,
 *   so no writer will link it again (Alma never reuses an id: this one says a removal was wrong).
 * - `extra`: the patron's id set holds it, Alma does not list it. `not-listed`: a live record of this patron (a return
 *   or a cancellation the cache missed); `another-patron`: the stored record names another patron as its owner;
 *   `dangling`: no live record behind the id.
 * - `different`: both have it; `fields` names Alma's fields whose values differ.
 */
export type RecordDrift =
  | {
      readonly kind: ItemKind;
      readonly itemId: string;
      readonly drift: 'missing';
      readonly reason: 'not-cached' | 'tombstoned' | 'not-linked' | 'removed-id';
    }
  | { readonly kind: ItemKind; readonly itemId: string; readonly drift: 'extra'; readonly reason: 'not-listed' | 'another-patron' | 'dangling' }
  | { readonly kind: ItemKind; readonly itemId: string; readonly drift: 'different'; readonly reason: 'fields'; readonly fields: readonly string[] };

/** The outcome of comparing one patron's cache with Alma. */
export interface PatronComparison {
  /** Every record that drifted, in kind order (loans, requests, fees), then by id. Empty when the patron matches. */
  readonly drifts: readonly RecordDrift[];
  /** Records that differ but changed within the grace period (a webhook may be in flight): not counted as drift. */
  readonly inFlight: number;
  /** Records looked at: Alma's listed ones and the patron's linked ones, each once. */
  readonly compared: number;
}

/** What {@link comparePatron} compares. */
export interface PatronComparisonInput {
  readonly user: CachedUser;
  /** Every record Alma lists for the patron, by kind (all pages), as `AlmaApi.listRecords` answers. */
  readonly alma: Readonly<Record<ItemKind, readonly AlmaRecord[]>>;
  /** The stored records of the ids Alma lists and of the ids the patron links, by kind and id. */
  readonly cached: Readonly<Record<ItemKind, ReadonlyMap<string, AuditedRecord>>>;
  readonly now: Date;
  /** A record whose stored version, or whose change in Alma, is younger than this is not counted (default 300). */
  readonly graceSeconds: number;
}

/** How long a record that changed is given before a difference counts as drift: webhooks arrive within seconds, Alma's resends after an hour. */
export const DEFAULT_AUDIT_GRACE_SECONDS = 5 * 60;

/**
 * Alma's own dates that say a record just changed in Alma, by kind: a difference on a record Alma changed within the grace
 * is a webhook still on its way (a renewal's `last_renew_date`, a new loan's `loan_date`, a request's `request_time`, a
 * fee's `status_time`). Dates Alma sets ahead of time (a due date, an expiry date) are not among them.
 */
const ALMA_CHANGE_FIELDS: Readonly<Record<ItemKind, readonly string[]>> = {
  loan: ['loan_date', 'last_renew_date'],
  request: ['request_time'],
  fee: ['status_time'],
};

/**
 * Compares one patron's cache with what Alma lists, record by record and field by field (every field Alma sends is
 * what the cache stores). A field absent on one side and `null` on the other is the same. Records Alma lists that the
 * cache must not store (`recordFieldsProblem`, or no id) are left out: the refresh leaves them out too.
 *
 * @example
 * const { drifts, inFlight } = comparePatron({ user, alma: { loan, request, fee }, cached, now: clock.now(), graceSeconds: 300 });
 * drifts[0]; // { kind: 'loan', itemId: '7391…', drift: 'different', reason: 'fields', fields: ['due_date'] }
 */
export const comparePatron = (input: PatronComparisonInput): PatronComparison => {
  const { user, now } = input;
  const since = now.getTime() - input.graceSeconds * 1000;
  const recent = (time: unknown): boolean => {
    const at = typeof time === 'string' ? Date.parse(time) : NaN;
    // A version dated a little ahead counts too: webhooks may be up to the clock-skew tolerance in the future.
    return Number.isFinite(at) && at > since;
  };
  const drifts: RecordDrift[] = [];
  let inFlight = 0;
  let compared = 0;
  for (const kind of ITEM_KINDS) {
    const cached = input.cached[kind];
    const listed = new Map<string, AlmaRecord>();
    const refused = new Set<string>();
    for (const record of input.alma[kind]) {
      const id = record[ITEM_SHAPES[kind].idField];
      if (typeof id !== 'string' || id === '') continue;
      if (recordFieldsProblem(record, kind, kind)) refused.add(id);
      else listed.set(id, record);
    }
    const found: RecordDrift[] = [];
    for (const [itemId, alma] of [...listed].sort(byId)) {
      compared += 1;
      const stored = cached.get(itemId);
      const drift = listedDrift(kind, itemId, alma, stored, user);
      if (!drift) continue;
      if (recent(stored?.eventTime) || ALMA_CHANGE_FIELDS[kind].some((field) => recent(alma[field]))) inFlight += 1;
      else found.push(drift);
    }
    for (const itemId of [...user.ids[kind]].filter((id) => !listed.has(id) && !refused.has(id)).sort()) {
      compared += 1;
      const stored = cached.get(itemId);
      if (recent(stored?.eventTime)) {
        inFlight += 1;
        continue;
      }
      const owner = stored && !stored.tombstone ? recordOwner(kind, stored.fields) : undefined;
      const reason =
        !stored || stored.tombstone ? 'dangling' : owner !== undefined && userCacheKey(owner) !== user.userKey ? 'another-patron' : 'not-listed';
      found.push({ kind, itemId, drift: 'extra', reason });
    }
    drifts.push(...found.sort((a, b) => (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0)));
  }
  return { drifts, inFlight, compared };
};

const byId = ([a]: [string, unknown], [b]: [string, unknown]): number => (a < b ? -1 : a > b ? 1 : 0);

/** How a record Alma lists differs from the cache, or undefined when readers of the cache see it as Alma has it. */
const listedDrift = (
  kind: ItemKind,
  itemId: string,
  alma: AlmaRecord,
  stored: AuditedRecord | undefined,
  user: CachedUser,
): RecordDrift | undefined => {
  if (!stored) return { kind, itemId, drift: 'missing', reason: 'not-cached' };
  if (stored.tombstone) return { kind, itemId, drift: 'missing', reason: 'tombstoned' };
  if (!user.ids[kind].has(itemId)) return { kind, itemId, drift: 'missing', reason: user.removedIds[kind].has(itemId) ? 'removed-id' : 'not-linked' };
  const fields = differentFields(alma, stored.fields);
  return fields.length > 0 ? { kind, itemId, drift: 'different', reason: 'fields', fields } : undefined;
};

/**
 * Alma's top-level field names whose values differ between two versions of a record, sorted. Values are compared
 * deeply (objects by their keys, not their order); absent and `null` are the same.
 *
 * @example
 * differentFields({ due_date: '2026-12-01', title: 'A' }, { due_date: '2026-12-08', title: 'A' }); // ['due_date']
 */
export const differentFields = (alma: Readonly<Record<string, unknown>>, stored: Readonly<Record<string, unknown>>): string[] =>
  [...new Set([...Object.keys(alma), ...Object.keys(stored)])].filter((name) => canonical(alma[name]) !== canonical(stored[name])).sort();

/** A value as text that is equal for equal values: keys sorted at every depth, `undefined` as `null`. */
const canonical = (value: unknown): string => {
  if (value === undefined || value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, child]) => child !== undefined && child !== null)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, child]) => `${JSON.stringify(key)}:${canonical(child)}`).join(',')}}`;
  }
  return JSON.stringify(value);
};

import {
  AlmaBudgetExhaustedError,
  AlmaCallerShareExceededError,
  type AlmaUnavailability,
  AlmaUnavailableError,
  InvalidPatronQueryError,
  PatronDataUnavailableError,
} from '../errors';
import type { AlmaRecord } from '../shared/alma-api.port';
import { userCacheKey } from '../shared/alma-event';
import { identifierProblem } from '../shared/identifier';
import { ITEM_SHAPES, type ItemKind } from '../shared/cache-record';
import type { CachedUser } from '../shared/cached-user';
import type { CachedItem } from './cache-reader.port';

/**
 * Seconds a client is told to wait when Alma gave no `Retry-After`: its per-second limit clears within a second or
 * two; a spent daily quota resets at midnight (an hour is a polite compromise); an outage is worth half a minute; the
 * stage's own budget, or a caller's share of it, frees a call every second.
 */
export const DEFAULT_RETRY_AFTER_SECONDS = {
  throttled: 2,
  'daily-limit': 3600,
  unavailable: 30,
  refreshing: 2,
  'budget-busy': 2,
  'caller-share': 2,
} as const satisfies Record<AlmaUnavailability, number>;

/** The stage's own budget is told apart from Alma's throttling: it is answered differently (see `answerMiss`). */
const unavailabilityOf = (error: AlmaUnavailableError): AlmaUnavailability => {
  if (error instanceof AlmaCallerShareExceededError) return 'caller-share';
  if (error instanceof AlmaBudgetExhaustedError) return 'budget-busy';
  return error.kind;
};

/**
 * Checks an id taken from a request path against the one identifier rule ({@link identifierProblem}) and returns it
 * unchanged: nothing is read, and Alma is not asked, for an id that fails it.
 *
 * @example
 * validQueryId('PAT0042X', 'patron id'); // 'PAT0042X'
 * validQueryId('..', 'loan id');         // throws InvalidPatronQueryError('the loan id is a dot segment ("." or "..")')
 * @throws InvalidPatronQueryError when the id fails the identifier rule; the reason never echoes the id
 */
export const validQueryId = (raw: string | undefined, what: string): string => {
  const problem = identifierProblem(raw);
  if (problem !== undefined) throw new InvalidPatronQueryError(`the ${what} ${problem}`);
  return raw as string;
};

/** Epoch seconds now, the unit of every `expires_at`. */
export const epochSeconds = (now: Date): number => Math.floor(now.getTime() / 1000);

const expired = (expiresAt: number | undefined, nowSeconds: number): boolean => expiresAt !== undefined && expiresAt <= nowSeconds;

/**
 * Whether the cached patron can answer a query: a record that exists, is no placeholder (a patron whose first
 * refresh is still running has no `refreshedAt` and maybe not all its ids yet) and has not expired (TTL deletes
 * hours late).
 *
 * @example
 * isCompletePatron({ userKey: 'pat0042x', ids, refreshedAt: '2026-11-21T09:00:00Z', expiresAt: 1795000000 }, now); // true
 */
export const isCompletePatron = <U extends Pick<CachedUser, 'refreshedAt' | 'expiresAt'>>(user: U | undefined, nowSeconds: number): user is U =>
  user !== undefined && user.refreshedAt !== undefined && !expired(user.expiresAt, nowSeconds);

/**
 * The patron a record names, if it names one: loans `user_id`, requests `user_primary_id`, fees
 * `user_primary_id.value` (Alma nests it in a fee), compared as cache keys (case-insensitively).
 */
export const ownerKeyOf = (kind: ItemKind, fields: AlmaRecord): string | undefined => {
  const raw = kind === 'loan' ? fields['user_id'] : fields['user_primary_id'];
  const value = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>)['value'] : raw;
  return typeof value === 'string' && value.trim() !== '' ? userCacheKey(value) : undefined;
};

/**
 * Whether a record may be served as this patron's: it names no owner, or names them. For cached records and for the
 * entries of Alma's per-patron lists: the id sets (cache) or the list's own path (Alma, whose ids pass the
 * identifier rule, so the path cannot be moved to another resource) decide ownership; this is a second check that a
 * record naming someone else never leaks. A single record fetched from Alma needs {@link isAlmaRecordOf} instead.
 */
export const isOwnedBy = (userKey: string, kind: ItemKind, fields: AlmaRecord): boolean => {
  const owner = ownerKeyOf(kind, fields);
  return owner === undefined || owner === userKey;
};

/**
 * Whether one record Alma answered for `GET /users/{id}/{kind}/{itemId}` may be served: it carries the id asked for
 * in its id field (`loan_id`, `request_id`, a fee's `id`) AND names this patron as its owner (compared as cache
 * keys). Strict on purpose: a record that names no owner, or another id, is not the record asked for (this is how
 * Alma's user-details record, which has neither, was once served for a loan id of `..`).
 *
 * @example
 * isAlmaRecordOf('pat0042x', 'loan', 'l1', { loan_id: 'l1', user_id: 'PAT0042X' }); // true
 * isAlmaRecordOf('pat0042x', 'loan', 'l1', { loan_id: 'l1' });                      // false: no owner
 */
export const isAlmaRecordOf = (userKey: string, kind: ItemKind, itemId: string, fields: AlmaRecord): boolean => {
  const id = fields[ITEM_SHAPES[kind].idField];
  const carriesId = (typeof id === 'string' || typeof id === 'number') && String(id) === itemId;
  return carriesId && ownerKeyOf(kind, fields) === userKey;
};

/**
 * What the cache says about one record the patron's id set names: `serve` it, `hide` it (a tombstone, or a record
 * that names another patron), or `missing` (absent, or expired but not yet deleted): the cache cannot answer for it.
 */
export type CachedItemVerdict = { readonly verdict: 'serve'; readonly fields: AlmaRecord } | { readonly verdict: 'hide' | 'missing' };

export const judgeCachedItem = (userKey: string, item: CachedItem | undefined, nowSeconds: number): CachedItemVerdict => {
  if (item === undefined) return { verdict: 'missing' };
  if (item.tombstone) return { verdict: 'hide' };
  if (expired(item.expiresAt, nowSeconds)) return { verdict: 'missing' };
  if (!isOwnedBy(userKey, item.kind, item.fields)) return { verdict: 'hide' };
  return { verdict: 'serve', fields: item.fields };
};

/** Records in a stable order, whichever source they came from: by id, as text. */
export const sortById = (kind: ItemKind, records: readonly AlmaRecord[]): AlmaRecord[] => {
  const idOf = (record: AlmaRecord) => String(record[ITEM_SHAPES[kind].idField] ?? '');
  return [...records].sort((a, b) => (idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0));
};

/**
 * Runs an Alma call, turning `AlmaUnavailableError` into the query's {@link PatronDataUnavailableError} (the stage's
 * budget into `budget-busy`, a caller's spent share into `caller-share`). Everything else passes through.
 */
export const askAlma = async <T>(userPrimaryId: string, call: () => Promise<T>): Promise<T> => {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof AlmaUnavailableError)) throw error;
    const unavailability = unavailabilityOf(error);
    const hinted = error.retryAfterSeconds;
    const retryAfter =
      hinted !== undefined && Number.isFinite(hinted) && hinted > 0 ? Math.ceil(hinted) : DEFAULT_RETRY_AFTER_SECONDS[unavailability];
    throw new PatronDataUnavailableError(userPrimaryId, unavailability, retryAfter, { cause: error });
  }
};

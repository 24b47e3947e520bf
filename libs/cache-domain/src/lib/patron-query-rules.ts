import { AlmaBudgetExhaustedError, AlmaUnavailableError } from './alma-api.errors';
import type { AlmaRecord } from './alma-api.port';
import { userCacheKey } from './alma-event';
import { ITEM_SHAPES, type ItemKind } from './cache-record';
import type { CachedItem, CachedPatronRecord } from './cache-reader.port';
import { type AlmaUnavailability, InvalidPatronQueryError, PatronDataUnavailableError } from './patron-query.errors';

/** Longest patron or record id a query may name. Alma's own ids are far shorter; this only stops abuse. */
export const MAX_QUERY_ID_LENGTH = 255;

/**
 * Seconds a client is told to wait when Alma gave no `Retry-After`: its per-second limit clears within a second or
 * two; a spent daily quota resets at midnight (an hour is a polite compromise); an outage is worth half a minute.
 */
export const DEFAULT_RETRY_AFTER_SECONDS = {
  throttled: 2,
  'daily-limit': 3600,
  unavailable: 30,
  refreshing: 2,
} as const satisfies Record<AlmaUnavailability, number>;

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/**
 * Checks an id taken from a request path and returns it unchanged.
 *
 * @example
 * validQueryId('PAT0042X', 'patron id'); // 'PAT0042X'
 * @throws InvalidPatronQueryError when it is blank, longer than {@link MAX_QUERY_ID_LENGTH} or holds control characters
 */
export const validQueryId = (raw: string | undefined, what: string): string => {
  if (raw === undefined || raw.trim() === '') throw new InvalidPatronQueryError(`the ${what} is empty`);
  if (raw.length > MAX_QUERY_ID_LENGTH) throw new InvalidPatronQueryError(`the ${what} is longer than ${MAX_QUERY_ID_LENGTH} characters`);
  if (CONTROL_CHARACTERS.test(raw)) throw new InvalidPatronQueryError(`the ${what} holds control characters`);
  return raw;
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
export const isCompletePatron = (user: CachedPatronRecord | undefined, nowSeconds: number): user is CachedPatronRecord =>
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
 * Whether an Alma record may be served as this patron's: it names no owner, or names them. The id sets decide
 * ownership in the cache; this is a second check that a record naming someone else never leaks.
 */
export const isOwnedBy = (userKey: string, kind: ItemKind, fields: AlmaRecord): boolean => {
  const owner = ownerKeyOf(kind, fields);
  return owner === undefined || owner === userKey;
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
 * Why Alma is unavailable, read from the error's reason. The AlmaApi port has no structured field for it, so this
 * reads the words Alma's own error codes put there (`PER_SECOND_THRESHOLD`, `DAILY_THRESHOLD`) and the HTTP status
 * the client names (`HTTP 429`); anything else is an outage.
 *
 * @example
 * almaUnavailability(new AlmaUnavailableError('GET …/loans failed 2 time(s); last: HTTP 429 throttled: …')); // 'throttled'
 */
export const almaUnavailability = (error: AlmaUnavailableError): AlmaUnavailability => {
  if (error instanceof AlmaBudgetExhaustedError) return 'throttled';
  if (/DAILY_THRESHOLD|daily API request threshold/i.test(error.reason)) return 'daily-limit';
  if (/\bHTTP 429\b|PER_SECOND_THRESHOLD/i.test(error.reason)) return 'throttled';
  return 'unavailable';
};

/**
 * Runs an Alma call, turning `AlmaUnavailableError` into the query's {@link PatronDataUnavailableError}.
 * Everything else passes through.
 */
export const askAlma = async <T>(userPrimaryId: string, call: () => Promise<T>): Promise<T> => {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof AlmaUnavailableError)) throw error;
    const unavailability = almaUnavailability(error);
    const hinted = error.retryAfterSeconds;
    const retryAfter = hinted !== undefined && Number.isFinite(hinted) && hinted > 0 ? Math.ceil(hinted) : DEFAULT_RETRY_AFTER_SECONDS[unavailability];
    throw new PatronDataUnavailableError(userPrimaryId, unavailability, retryAfter, { cause: error });
  }
};

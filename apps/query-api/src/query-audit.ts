import { createHmac } from 'node:crypto';
import { callerOfClaims, type QueryRole, userCacheKey } from '@alma-cache/cache-domain';

/**
 * The patron id as the query API's log lines carry it: HMAC-SHA256 keyed with the stage's pepper, over the id as a
 * cache key (trimmed, lower-cased, so `PAT0042X` and `pat0042x` log the same hash), in hex.
 *
 * Why a keyed hash and not a plain SHA-256: patron ids are barcodes and student numbers, a space small enough to
 * hash in full in minutes, so an unkeyed hash in the logs would be the ids in clear for anyone reading the logs.
 * The pepper lives in SSM (not in the logs, not in the template), so only whoever may read it can compute the hash of
 * a given patron and find who read them; a log reader alone cannot go back from a hash to an id.
 *
 * @example
 * patronLogHash('pepper-of-stg', 'PAT0042X') === patronLogHash('pepper-of-stg', 'pat0042x'); // true
 */
export const patronLogHash = (pepper: string, patronId: string): string =>
  createHmac('sha256', pepper).update(userCacheKey(patronId), 'utf8').digest('hex');

/**
 * Whether a caller with these roles is logged in clear: readers and admins are the library's services and staff
 * clients, whose `sub` or client id says which application read. Any other token (a patron token, or one with no
 * role the API knows) may carry a patron's primary id as its `sub`, so it is logged hashed.
 *
 * @example
 * callerInClear(['reader']); // true
 * callerInClear(['patron']); // false
 */
export const callerInClear = (roles: readonly QueryRole[]): boolean => roles.includes('reader') || roles.includes('admin');

/**
 * The `caller` of the query log line: a reader's or admin's `sub` (else client id) in clear; for any other token the
 * same keyed hash as the `patron` field ({@link patronLogHash} of its `sub`, else client id), so a patron reading their
 * own data shows as `caller` equal to `patron`, and a log reader cannot pair a hash with an id. `pepper` is needed
 * only for such tokens; without it their caller is left out rather than written in clear.
 *
 * @example
 * callerForLog({ sub: 'svc-discovery', scope: 'alma-cache/read' }, ['reader'], pepper); // 'svc-discovery'
 * callerForLog({ sub: 'PAT0042X', scope: 'alma-cache/patron' }, ['patron'], pepper) === patronLogHash(pepper, 'PAT0042X'); // true
 */
export const callerForLog = (
  claims: Readonly<Record<string, unknown>>,
  roles: readonly QueryRole[],
  pepper: string | undefined,
): string | undefined => {
  const caller = callerOfClaims(claims);
  if (caller === undefined || callerInClear(roles)) return caller;
  return pepper === undefined ? undefined : patronLogHash(pepper, caller);
};

/** What stands for an id in a redacted text. */
export const REDACTED_ID = '[id]';

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * `text` with every occurrence of each id (as given, and URL-encoded, case-insensitively: Alma and the cache compare
 * ids that way) replaced by {@link REDACTED_ID}. For error messages and stacks that reach a log line: the domain's
 * errors name the ids they are about, which the caller may see in the answer but the logs must not keep.
 *
 * @example
 * redactIds('no patron "PAT0042X"', ['pat0042x']); // 'no patron "[id]"'
 */
export const redactIds = (text: string, ids: readonly (string | undefined)[]): string => {
  const variants = [...new Set(ids.flatMap((id) => (id === undefined || id.trim() === '' ? [] : [id, encodeURIComponent(id)])))];
  // Longest first, so an id holding another one is replaced whole.
  variants.sort((a, b) => b.length - a.length);
  return variants.reduce((redacted, id) => redacted.replace(new RegExp(escapeRegExp(id), 'gi'), REDACTED_ID), text);
};

/**
 * An error fit for a log line: the same name, its message, stack and causes (three deep) with the ids redacted. The
 * original is left alone: the answer may still quote it.
 *
 * @example
 * logger.error('Query failed', { error: redactedError(error, [patronId, itemId]) });
 */
export const redactedError = (error: unknown, ids: readonly (string | undefined)[], depth = 0): Error => {
  const original = error instanceof Error ? error : new Error(String(error));
  const copy = new Error(redactIds(original.message, ids));
  copy.name = original.name;
  copy.stack = original.stack === undefined ? undefined : redactIds(original.stack, ids);
  if (original.cause !== undefined && depth < 3) copy.cause = redactedError(original.cause, ids, depth + 1);
  return copy;
};

import type { AlmaRecord } from '../shared/alma-api.port';
import type { ItemKind } from '../shared/cache-record';
import type { CachedUser } from '../shared/cached-user';

/** One cached loan, request or fee, as read back: Alma's fields apart from what the cache adds. */
export interface CachedItem {
  readonly kind: ItemKind;
  readonly itemId: string;
  /** A removed record, kept so that older events cannot bring it back: never to be served. */
  readonly tombstone: boolean;
  /** Epoch seconds after which the record is expired, whether or not TTL has deleted it yet. */
  readonly expiresAt?: number;
  /** The Alma object, every field as Alma sent it, without the cache's own attributes. */
  readonly fields: AlmaRecord;
}

/**
 * Read access to the cache for the query API. Reads may be eventually consistent: a query answered from a
 * version a second old is fine, and a patron missing from the cache falls back to Alma anyway.
 *
 * @example
 * const user = await cache.readUser('pat0042x');
 * const loans = await cache.readItems('loan', user?.ids.loan ?? []);
 */
export interface CacheReader {
  /**
   * The user's row as the query API reads it: the id sets and whether the row is complete (not the writers' version
   * and removed ids). Undefined when the user is not cached; an expired row is returned as it is.
   */
  readUser(userKey: string): Promise<Pick<CachedUser, 'userKey' | 'ids' | 'refreshedAt' | 'expiresAt'> | undefined>;
  /**
   * The records of `kind` with these ids that the cache holds, by id; ids the cache does not hold are left out.
   * Tombstones and expired records are returned as they are: what to serve is the caller's rule.
   */
  readItems(kind: ItemKind, itemIds: Iterable<string>): Promise<ReadonlyMap<string, CachedItem>>;
  /** One record, or undefined when the cache does not hold it. */
  readItem(kind: ItemKind, itemId: string): Promise<CachedItem | undefined>;
}

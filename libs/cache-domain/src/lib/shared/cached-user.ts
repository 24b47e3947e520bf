import type { ItemKind } from './cache-record';

/**
 * A Users table row: one Alma user (a patron, to the query API) as the cache holds them. The one type for the row on
 * both sides: the writers read all of it (`CacheStore.readUser`), the query API the fields it needs
 * (`CacheReader.readUser`).
 *
 * @example
 * const user = await store.readUser('pat0042x');
 * user?.ids.loan.has('7391500230004561'); // true when the loan is this user's
 */
export interface CachedUser {
  /** The table key: the primary id with its ASCII letters lower-cased (`userCacheKey`). */
  readonly userKey: string;
  /** The ids in `loan_ids`, `request_ids`, `fee_ids`: the records that are this user's. */
  readonly ids: Readonly<Record<ItemKind, ReadonlySet<string>>>;
  /** The ids seen removed: a removal is final, so an older event cannot link them again. */
  readonly removedIds: Readonly<Record<ItemKind, ReadonlySet<string>>>;
  /**
   * Bumped by every change to the id sets, so that a refresh can replace the row without losing an id that a
   * webhook linked or unlinked meanwhile. 0 for a row that has never changed.
   */
  readonly version: number;
  /** When a refresh last completed; absent on the placeholder written while the first refresh runs. */
  readonly refreshedAt?: string;
  /**
   * Epoch seconds after which the row is expired, whether or not TTL has deleted it yet. Read by the query API only:
   * the writers' `CacheStore.readUser` leaves it out.
   */
  readonly expiresAt?: number;
}

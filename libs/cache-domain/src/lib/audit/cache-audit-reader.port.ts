import type { ItemKind } from '../shared/cache-record';

/** One stored record as the audit compares it: Alma's fields, and what the cache says about them apart. */
export interface AuditedRecord {
  readonly itemId: string;
  /** A removed record, kept so that older events cannot bring it back. */
  readonly tombstone: boolean;
  /** `alma_event_time` of the stored version (ISO-8601); absent on a record written by an older stack. */
  readonly eventTime?: string;
  /** Alma's fields as stored, without the attributes the cache adds (`alma_event_*`, `expires_at`, `tombstone`, a fee's `fee_id`). */
  readonly fields: Readonly<Record<string, unknown>>;
}

/**
 * What the drift audit reads from the cache besides the patron row (`CacheStore.readUser`): a sample of patrons, and
 * their records. Reads only; the audit writes through the `CacheStore` with the refresh's rule.
 *
 * @example
 * const keys = await reader.samplePatrons(50);            // up to 50 cached, complete patrons, from a random start
 * const loans = await reader.readRecords('loan', user.ids.loan);
 */
export interface CacheAuditReader {
  /**
   * Up to `size` keys (`userCacheKey`) of cached patrons whose first refresh completed (`refreshedAt` set), taken from a
   * random place in the Users table. Fewer when the table holds fewer.
   */
  samplePatrons(size: number): Promise<readonly string[]>;
  /** The stored records of `kind` among `itemIds`, by id, read strongly consistently; ids with no record are left out. */
  readRecords(kind: ItemKind, itemIds: Iterable<string>): Promise<ReadonlyMap<string, AuditedRecord>>;
}

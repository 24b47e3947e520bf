import type { AlmaRecord } from '../lib/shared/alma-api.port';
import { ITEM_KINDS, type ItemKind } from '../lib/shared/cache-record';
import type { CacheReader, CachedItem } from '../lib/query/cache-reader.port';

type Operation = keyof CacheReader;

/** What `readUser` answers: the reader port's fields of a `CachedUser`. */
type UserAsRead = NonNullable<Awaited<ReturnType<CacheReader['readUser']>>>;

/**
 * A CacheReader over maps, for query use-case tests. Seed it as the cache would be written: patrons with their id
 * sets, records with their tombstone flag and expiry.
 *
 * @example
 * const cache = new InMemoryCacheReader();
 * cache.seedPatron('pat0042x', { loan: ['l1'] });
 * cache.seedItem('loan', 'l1', { loan_id: 'l1', user_id: 'PAT0042X' });
 */
export class InMemoryCacheReader implements CacheReader {
  public readonly patrons = new Map<string, UserAsRead>();
  public readonly items: Record<ItemKind, Map<string, CachedItem>> = { loan: new Map(), request: new Map(), fee: new Map() };
  /** Every call, in order, e.g. `readItems loan l1,l2`. */
  public readonly calls: string[] = [];
  private readonly failures: { operation: Operation; error: Error }[] = [];

  /** Caches a patron with these ids; complete (refreshed) and unexpired unless `options` say otherwise. */
  public seedPatron(
    userKey: string,
    ids: Partial<Record<ItemKind, readonly string[]>> = {},
    options: { refreshedAt?: string | null; expiresAt?: number } = {},
  ): UserAsRead {
    const patron: UserAsRead = {
      userKey,
      ids: Object.fromEntries(ITEM_KINDS.map((kind) => [kind, new Set(ids[kind] ?? [])])) as Record<ItemKind, Set<string>>,
      ...(options.refreshedAt === null ? {} : { refreshedAt: options.refreshedAt ?? '2026-11-21T09:00:00.000Z' }),
      ...(options.expiresAt === undefined ? {} : { expiresAt: options.expiresAt }),
    };
    this.patrons.set(userKey, patron);
    return patron;
  }

  /** Caches a record; a tombstone when `options.tombstone`. */
  public seedItem(kind: ItemKind, itemId: string, fields: AlmaRecord, options: { tombstone?: boolean; expiresAt?: number } = {}): CachedItem {
    const item: CachedItem = {
      kind,
      itemId,
      tombstone: options.tombstone ?? false,
      fields,
      ...(options.expiresAt === undefined ? {} : { expiresAt: options.expiresAt }),
    };
    this.items[kind].set(itemId, item);
    return item;
  }

  /** Makes the next call of `operation` fail with `error`. */
  public failNext(operation: Operation, error: Error): void {
    this.failures.push({ operation, error });
  }

  public async readUser(userKey: string): Promise<UserAsRead | undefined> {
    this.record('readUser', userKey);
    return this.patrons.get(userKey);
  }

  public async readItems(kind: ItemKind, itemIds: Iterable<string>): Promise<ReadonlyMap<string, CachedItem>> {
    const ids = [...itemIds];
    this.record('readItems', `${kind} ${ids.join(',')}`);
    const found = new Map<string, CachedItem>();
    for (const id of ids) {
      const item = this.items[kind].get(id);
      if (item) found.set(id, item);
    }
    return found;
  }

  public async readItem(kind: ItemKind, itemId: string): Promise<CachedItem | undefined> {
    this.record('readItem', `${kind} ${itemId}`);
    return this.items[kind].get(itemId);
  }

  private record(operation: Operation, detail: string): void {
    this.calls.push(`${operation} ${detail}`);
    const index = this.failures.findIndex((failure) => failure.operation === operation);
    if (index >= 0) throw this.failures.splice(index, 1)[0].error;
  }
}

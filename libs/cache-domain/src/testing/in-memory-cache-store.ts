import { ITEM_SHAPES, type ItemKind } from '../lib/alma-event';
import type { CacheStore, ItemRecord, LinkResult, RefreshClaim, WriteResult } from '../lib/cache-store.port';

interface CachedUser {
  primary_id: string;
  loan_ids: Set<string>;
  request_ids: Set<string>;
  removed_loan_ids: Set<string>;
  removed_request_ids: Set<string>;
}

type Operation = keyof CacheStore;

/**
 * A CacheStore in memory with the same conditional semantics as the DynamoDB adapter, for domain tests.
 *
 * @example
 * const store = new InMemoryCacheStore();
 * store.seedUser('pat0042x');
 * store.failNext('linkItem', new Error('throttled'));
 */
export class InMemoryCacheStore implements CacheStore {
  public readonly users = new Map<string, CachedUser>();
  public readonly items: Record<ItemKind, Map<string, ItemRecord>> = { loan: new Map(), request: new Map() };
  public readonly claims = new Map<string, { claimant: string; untilSeconds: number }>();
  /** Every call, in order, so tests can count writes per event. */
  public readonly calls: Operation[] = [];
  private readonly failures: { operation: Operation; error: Error }[] = [];

  /** Caches a patron, as the bulk refresh would. */
  public seedUser(userKey: string, ids: { loan_ids?: string[]; request_ids?: string[] } = {}): void {
    this.users.set(userKey, {
      primary_id: userKey,
      loan_ids: new Set(ids.loan_ids ?? []),
      request_ids: new Set(ids.request_ids ?? []),
      removed_loan_ids: new Set(),
      removed_request_ids: new Set(),
    });
  }

  /** Makes the next call of `operation` fail with `error`, before it changes anything. */
  public failNext(operation: Operation, error: Error): void {
    this.failures.push({ operation, error });
  }

  public async writeItem(record: ItemRecord): Promise<WriteResult> {
    this.enter('writeItem');
    const current = this.items[record.kind].get(record.itemId);
    if (current && !supersedes(record, current)) return 'stale';
    this.items[record.kind].set(record.itemId, record);
    return 'written';
  }

  public async linkItem(userKey: string, kind: ItemKind, itemId: string): Promise<LinkResult> {
    this.enter('linkItem');
    const user = this.users.get(userKey);
    if (!user) return 'user-not-cached';
    if (user[ITEM_SHAPES[kind].removedIdsAttribute].has(itemId)) return 'item-removed';
    user[ITEM_SHAPES[kind].userIdsAttribute].add(itemId);
    return 'updated';
  }

  public async unlinkItem(userKey: string, kind: ItemKind, itemId: string): Promise<Exclude<LinkResult, 'item-removed'>> {
    this.enter('unlinkItem');
    const user = this.users.get(userKey);
    if (!user) return 'user-not-cached';
    user[ITEM_SHAPES[kind].userIdsAttribute].delete(itemId);
    user[ITEM_SHAPES[kind].removedIdsAttribute].add(itemId);
    return 'updated';
  }

  public async claimUserRefresh(claim: RefreshClaim): Promise<boolean> {
    this.enter('claimUserRefresh');
    const current = this.claims.get(claim.userKey);
    if (current && current.untilSeconds > claim.nowSeconds && current.claimant !== claim.claimant) return false;
    this.claims.set(claim.userKey, { claimant: claim.claimant, untilSeconds: claim.untilSeconds });
    return true;
  }

  private enter(operation: Operation): void {
    this.calls.push(operation);
    const index = this.failures.findIndex((failure) => failure.operation === operation);
    if (index >= 0) throw this.failures.splice(index, 1)[0].error;
  }
}

/** The ordering rule of {@link CacheStore.writeItem}, stated once for the fake. */
const supersedes = (next: ItemRecord, current: ItemRecord): boolean => {
  if (next.eventTime !== current.eventTime) return next.eventTime > current.eventTime;
  if (next.eventId === current.eventId) return true;
  return next.tombstone && !current.tombstone;
};

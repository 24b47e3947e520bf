import { ITEM_KINDS, type ItemKind } from '../lib/shared/cache-record';
import type { CacheReader, CachedItem } from '../lib/query/cache-reader.port';
import { userCacheKey } from '../lib/shared/alma-event';
import { recordOwner } from '../lib/shared/record-fields';
import type { CachedUser } from '../lib/shared/cached-user';
import {
  CLAIM_RETRY_AFTER_SECONDS,
  type CacheStore,
  type ItemRecord,
  type LinkResult,
  type RefreshClaim,
  type UserSnapshot,
  type WriteResult,
} from '../lib/shared/cache-store.port';

interface StoredUser {
  ids: Record<ItemKind, Set<string>>;
  removedIds: Record<ItemKind, Set<string>>;
  version: number;
  refreshedAt?: string;
  expiresAt?: number;
}

type Operation = keyof CacheStore;

/** Whether the stored record names a patron other than `userKey` (a record naming none belongs to no one). */
const ownedByAnother = (current: ItemRecord, userKey: string): boolean => {
  const owner = recordOwner(current.kind, current.fields);
  return owner !== undefined && userCacheKey(owner) !== userKey;
};

/**
 * A CacheStore in memory with the same conditional semantics as the DynamoDB adapter, for domain tests.
 *
 * @example
 * const store = new InMemoryCacheStore();
 * store.seedUser('pat0042x');
 * store.failNext('linkItem', new Error('throttled'));
 */
export class InMemoryCacheStore implements CacheStore {
  public readonly users = new Map<string, StoredUser>();
  public readonly items: Record<ItemKind, Map<string, ItemRecord>> = { loan: new Map(), request: new Map(), fee: new Map() };
  public readonly claims = new Map<string, { claimant: string; untilSeconds: number; claimedAt?: number; sent?: boolean; wanted?: boolean }>();
  /** Every call, in order, so tests can count writes per event. */
  public readonly calls: Operation[] = [];
  private readonly failures: { operation: Operation; error: Error }[] = [];
  private readonly interleaved: { operation: Operation; action: () => Promise<void> }[] = [];

  /** Caches a patron, as the bulk refresh would. */
  public seedUser(userKey: string, ids: { loan_ids?: string[]; request_ids?: string[]; fee_ids?: string[] } = {}): void {
    this.users.set(userKey, {
      ids: { loan: new Set(ids.loan_ids ?? []), request: new Set(ids.request_ids ?? []), fee: new Set(ids.fee_ids ?? []) },
      removedIds: { loan: new Set(), request: new Set(), fee: new Set() },
      version: 0,
      refreshedAt: '2026-01-01T00:00:00.000Z',
    });
  }

  /**
   * A {@link CacheReader} over this store's contents, as the query API reads the tables the refresh writes.
   *
   * @example
   * const deps = { cache: store.reader(), … };
   */
  public reader(): CacheReader {
    const cached = (record: ItemRecord): CachedItem => ({
      kind: record.kind,
      itemId: record.itemId,
      tombstone: record.tombstone,
      expiresAt: record.expiresAt,
      fields: record.fields,
    });
    return {
      readUser: async (userKey) => {
        const user = this.users.get(userKey);
        if (!user) return undefined;
        return {
          userKey,
          ids: copySets(user.ids),
          ...(user.refreshedAt ? { refreshedAt: user.refreshedAt } : {}),
          ...(user.expiresAt === undefined ? {} : { expiresAt: user.expiresAt }),
        };
      },
      readItems: async (kind, itemIds) => {
        const found = new Map<string, CachedItem>();
        for (const id of itemIds) {
          const record = this.items[kind].get(id);
          if (record) found.set(id, cached(record));
        }
        return found;
      },
      readItem: async (kind, itemId) => {
        const record = this.items[kind].get(itemId);
        return record ? cached(record) : undefined;
      },
    };
  }

  /** Runs `action` just before the next call of `operation`, e.g. to land a webhook in the middle of a refresh. */
  public beforeNext(operation: Operation, action: () => Promise<void>): void {
    this.interleaved.push({ operation, action });
  }

  /** Makes the next call of `operation` fail with `error`, before it changes anything. */
  public failNext(operation: Operation, error: Error): void {
    this.failures.push({ operation, error });
  }

  public async writeItem(record: ItemRecord): Promise<WriteResult> {
    await this.enter('writeItem');
    const current = this.items[record.kind].get(record.itemId);
    if (current && !supersedes(record, current)) return 'stale';
    if (current && record.onlyOwnedBy !== undefined && ownedByAnother(current, record.onlyOwnedBy)) return 'stale';
    this.items[record.kind].set(record.itemId, record);
    return current?.eventId === record.eventId ? 'duplicate' : 'written';
  }

  public async linkItem(userKey: string, kind: ItemKind, itemId: string): Promise<LinkResult> {
    await this.enter('linkItem');
    const user = this.users.get(userKey);
    if (!user) return 'user-not-cached';
    if (user.removedIds[kind].has(itemId)) return 'item-removed';
    user.ids[kind].add(itemId);
    user.version += 1;
    return 'updated';
  }

  public async unlinkItem(userKey: string, kind: ItemKind, itemId: string): Promise<Exclude<LinkResult, 'item-removed'>> {
    await this.enter('unlinkItem');
    const user = this.users.get(userKey);
    if (!user) return 'user-not-cached';
    user.ids[kind].delete(itemId);
    user.removedIds[kind].add(itemId);
    user.version += 1;
    return 'updated';
  }

  public async claimUserRefresh(claim: RefreshClaim): Promise<boolean> {
    await this.enter('claimUserRefresh');
    const current = this.claims.get(claim.userKey);
    const retryOfOwn =
      current?.claimant === claim.claimant &&
      !current.sent &&
      (current.claimedAt === undefined || current.claimedAt <= claim.nowSeconds - CLAIM_RETRY_AFTER_SECONDS);
    if (current && current.untilSeconds > claim.nowSeconds && !retryOfOwn) return false;
    this.claims.set(claim.userKey, { claimant: claim.claimant, untilSeconds: claim.untilSeconds, claimedAt: claim.nowSeconds });
    return true;
  }

  public async noteRefreshWanted(userKey: string, nowSeconds: number): Promise<boolean> {
    await this.enter('noteRefreshWanted');
    const current = this.claims.get(userKey);
    if (current === undefined || current.untilSeconds <= nowSeconds) return false;
    current.wanted = true;
    return true;
  }

  public async markRefreshSent(userKey: string, claimant: string): Promise<void> {
    await this.enter('markRefreshSent');
    const current = this.claims.get(userKey);
    if (current?.claimant === claimant) current.sent = true;
  }

  public async releaseUserRefresh(userKey: string, claimant: string, expiredAt: number, evenIfWanted = false): Promise<boolean> {
    await this.enter('releaseUserRefresh');
    const current = this.claims.get(userKey);
    if (current?.claimant !== claimant || current.sent) return false;
    if (current.wanted && !evenIfWanted) return true;
    current.untilSeconds = expiredAt;
    return false;
  }

  public async abandonUserRefresh(userKey: string): Promise<boolean> {
    await this.enter('abandonUserRefresh');
    const user = this.users.get(userKey);
    if (user === undefined || user.refreshedAt !== undefined) return false;
    if (user.version > 0) return true;
    this.users.delete(userKey);
    return false;
  }

  public async beginUserRefresh(userKey: string, expiresAt: number): Promise<void> {
    await this.enter('beginUserRefresh');
    if (this.users.has(userKey)) return;
    this.users.set(userKey, { ids: emptySets(), removedIds: emptySets(), version: 0, expiresAt });
  }

  public async readUser(userKey: string): Promise<CachedUser | undefined> {
    await this.enter('readUser');
    const user = this.users.get(userKey);
    if (!user) return undefined;
    // A copy, as a read from a database would be: later changes must not show through.
    return {
      userKey,
      ids: copySets(user.ids),
      removedIds: copySets(user.removedIds),
      version: user.version,
      ...(user.refreshedAt ? { refreshedAt: user.refreshedAt } : {}),
    };
  }

  public async replaceUser(snapshot: UserSnapshot, expectedVersion: number): Promise<boolean> {
    await this.enter('replaceUser');
    const user = this.users.get(snapshot.userKey);
    if (!user || user.version !== expectedVersion) return false;
    this.users.set(snapshot.userKey, {
      ids: copySets(snapshot.ids),
      removedIds: copySets(snapshot.removedIds),
      version: expectedVersion + 1,
      refreshedAt: snapshot.refreshedAt,
      expiresAt: snapshot.expiresAt,
    });
    return true;
  }

  public async deleteUser(userKey: string, expectedVersion: number): Promise<boolean> {
    await this.enter('deleteUser');
    const user = this.users.get(userKey);
    if (!user || user.version !== expectedVersion) return false;
    this.users.delete(userKey);
    return true;
  }

  private async enter(operation: Operation): Promise<void> {
    this.calls.push(operation);
    const hook = this.interleaved.findIndex((entry) => entry.operation === operation);
    if (hook >= 0) await this.interleaved.splice(hook, 1)[0].action();
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

const emptySets = (): Record<ItemKind, Set<string>> => ({ loan: new Set(), request: new Set(), fee: new Set() });

const copySets = (sets: Readonly<Record<ItemKind, ReadonlySet<string>>>): Record<ItemKind, Set<string>> =>
  Object.fromEntries(ITEM_KINDS.map((kind) => [kind, new Set(sets[kind])])) as Record<ItemKind, Set<string>>;

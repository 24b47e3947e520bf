import { AlmaUserNotFoundError } from './alma-api.errors';
import type { AlmaRecord } from './alma-api.port';
import { userCacheKey } from './alma-event';
import type { WriteResult } from './cache-store.port';
import type { ItemRefreshRequest } from './refresh-message';
import { type RefreshDeps, refreshStamp, refreshedRecord, rememberUnknownPatron } from './refresh-support';

export interface ItemRefreshOutcome {
  readonly request: ItemRefreshRequest;
  /** Whether Alma still has the record; when not, the cache now holds a tombstone for it. */
  readonly found: boolean;
  readonly item: WriteResult;
  readonly user: 'linked' | 'unlinked' | 'already-removed' | 'user-not-cached' | 'untouched';
}

/**
 * Refreshes one loan, request or fee from Alma: writes it (or a tombstone when Alma no longer has it) and keeps
 * the patron's id set in step. Dated like a full refresh, so a newer webhook version is kept.
 *
 * A patron who is not cached is left alone: the record is written, and the patron is rebuilt when a webhook or a
 * reader next meets them.
 *
 * @example
 * await new RefreshItem(deps).execute({ userPrimaryId: 'PAT0042X', kind: 'loan', itemId: '7391500230004561' });
 * @throws AlmaUnavailableError, AlmaRequestError when Alma cannot be read (the message is retried)
 */
export class RefreshItem {
  public constructor(private readonly deps: RefreshDeps) {}

  public async execute(request: ItemRefreshRequest): Promise<ItemRefreshOutcome> {
    const { kind, itemId, userPrimaryId } = request;
    const stamp = refreshStamp(this.deps, `${kind}:${itemId}`);
    let alma: AlmaRecord | undefined;
    try {
      alma = await this.deps.alma.getRecord(userPrimaryId, kind, itemId);
    } catch (error) {
      if (!(error instanceof AlmaUserNotFoundError)) throw error;
      await rememberUnknownPatron(this.deps, userCacheKey(userPrimaryId), stamp.nowSeconds);
    }
    const found = alma !== undefined;

    const item = await this.deps.store.writeItem(refreshedRecord(this.deps, stamp, request, alma));
    if (item === 'stale') return { request, found, item, user: 'untouched' };

    const userKey = userCacheKey(userPrimaryId);
    const link = found
      ? await this.deps.store.linkItem(userKey, kind, itemId)
      : await this.deps.store.unlinkItem(userKey, kind, itemId);
    if (link === 'item-removed') return { request, found, item, user: 'already-removed' };
    if (link === 'user-not-cached') return { request, found, item, user: 'user-not-cached' };
    return { request, found, item, user: found ? 'linked' : 'unlinked' };
  }
}

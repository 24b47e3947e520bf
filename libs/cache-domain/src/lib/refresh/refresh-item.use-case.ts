import { AlmaUserNotFoundError, MalformedAlmaRecordError } from '../errors';
import type { AlmaRecord } from '../shared/alma-api.port';
import { userCacheKey } from '../shared/alma-event';
import type { WriteResult } from '../shared/cache-store.port';
import { recordFieldsProblem } from '../shared/record-fields';
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
 * reader next meets them. A tombstone replaces only a record of the patron the message names: a message naming
 * patron B and patron A's loan id leaves A's loan as it is (`item: 'stale'`).
 *
 * @example
 * await new RefreshItem(deps).execute({ userPrimaryId: 'PAT0042X', kind: 'loan', itemId: '7391500230004561' });
 * @throws AlmaUnavailableError, AlmaRequestError when Alma cannot be read (the message is retried)
 * @throws MalformedAlmaRecordError, before any write, when Alma's record cannot be cached (see recordFieldsProblem)
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
    if (alma !== undefined) {
      const problem = recordFieldsProblem(alma, kind, kind);
      // The reason is logged and set on the parked message: it names the field, not the record (the body names it).
      if (problem) throw new MalformedAlmaRecordError(`Alma's ${kind} record cannot be cached: ${problem}`);
    }

    const record = refreshedRecord(this.deps, stamp, request, alma);
    // Alma answers "no such record" for a record of another patron too: only this patron's record may become a tombstone.
    const item = await this.deps.store.writeItem(found ? record : { ...record, onlyOwnedBy: userCacheKey(userPrimaryId) });
    if (item === 'stale') return { request, found, item, user: 'untouched' };

    const userKey = userCacheKey(userPrimaryId);
    const link = found ? await this.deps.store.linkItem(userKey, kind, itemId) : await this.deps.store.unlinkItem(userKey, kind, itemId);
    if (link === 'item-removed') return { request, found, item, user: 'already-removed' };
    if (link === 'user-not-cached') return { request, found, item, user: 'user-not-cached' };
    return { request, found, item, user: found ? 'linked' : 'unlinked' };
  }
}

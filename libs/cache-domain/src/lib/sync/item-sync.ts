import { type ItemEvent, userCacheKey } from '../shared/alma-event';
import type { CacheStore, WriteResult } from '../shared/cache-store.port';
import type { Clock } from '../shared/clock.port';
import type { ExpiryPolicy } from '../shared/expiry-policy';
import type { UserRefreshQueue } from '../shared/user-refresh-queue.port';

/** Claims tried when each one finds the claim given up just after refusing: more means claimants racing, and one of them queues. */
const CLAIM_ATTEMPTS = 3;

/** What every item use case needs; the composition root provides it. */
export interface ItemSyncDeps {
  readonly store: CacheStore;
  readonly refreshQueue: UserRefreshQueue;
  readonly clock: Clock;
  readonly expiry: ExpiryPolicy;
}

export type UserOutcome = 'linked' | 'unlinked' | 'already-removed' | 'refresh-requested' | 'refresh-already-requested' | 'untouched';

/** What one event did to the cache, for the handler's log line and metrics. */
export interface SyncOutcome {
  readonly event: ItemEvent;
  /** A `duplicate` (redelivery) is applied on like `written`: the first delivery may have stopped after the item. */
  readonly item: WriteResult;
  readonly user: UserOutcome;
}

/**
 * Applies one item event: the item first (written even when the patron is not cached), then the patron's id set,
 * or a coalesced refresh request when the patron is unknown. A stale event touches nothing else, so an old retry
 * can neither re-link a removed item nor unlink a newer one.
 *
 * Common path: two conditional writes, no reads. An unknown patron adds the claim and its mark (the refresh queued),
 * or the claim and a note on the live claim it was coalesced into.
 */
export const syncItem = async (deps: ItemSyncDeps, event: ItemEvent, change: 'upsert' | 'remove'): Promise<SyncOutcome> => {
  const { store, refreshQueue, clock, expiry } = deps;
  const nowSeconds = Math.floor(clock.now().getTime() / 1000);
  const removal = change === 'remove';

  const item = await store.writeItem({
    kind: event.kind,
    itemId: event.itemId,
    userPrimaryId: event.userPrimaryId,
    eventId: event.eventId,
    eventType: event.eventType,
    eventTime: event.eventTime,
    tombstone: removal,
    expiresAt: nowSeconds + (removal ? expiry.tombstoneSeconds : expiry.itemSeconds),
    fields: event.item,
  });
  if (item === 'stale') return { event, item, user: 'untouched' };

  const userKey = userCacheKey(event.userPrimaryId);
  const link = removal ? await store.unlinkItem(userKey, event.kind, event.itemId) : await store.linkItem(userKey, event.kind, event.itemId);
  if (link === 'updated') return { event, item, user: removal ? 'unlinked' : 'linked' };
  if (link === 'item-removed') return { event, item, user: 'already-removed' };

  for (let attempt = 1; ; attempt += 1) {
    // The clock read each round: the claim may have run out meanwhile.
    const now = Math.floor(clock.now().getTime() / 1000);
    const claim = { userKey, claimant: event.eventId, nowSeconds: now, untilSeconds: now + expiry.refreshWindowSeconds };
    if (await store.claimUserRefresh(claim)) break;
    // Coalesced into a live claim, the note makes its holder queue this refresh should its own rebuild fail (a query's
    // inline rebuild, whose placeholder this event came too early to link to). No claim live any more: it was given
    // up between the two calls, so claim again.
    if (attempt === CLAIM_ATTEMPTS || (await store.noteRefreshWanted(userKey, now))) {
      return { event, item, user: 'refresh-already-requested' };
    }
  }
  await refreshQueue.requestRefresh(event.userPrimaryId);
  // Only after the send: a failed send leaves the claim unmarked, so a retry of this event sends again; once marked,
  // a redelivery of this event is coalesced like any other. A failed mark only risks one duplicate refresh.
  await store.markRefreshSent(userKey, event.eventId);
  return { event, item, user: 'refresh-requested' };
};

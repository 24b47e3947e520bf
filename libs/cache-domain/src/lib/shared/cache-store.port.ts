import type { ItemKind } from './cache-record';
import type { CachedUser } from './cached-user';

/** One version of a loan or request, as the cache stores it. */
export interface ItemRecord {
  readonly kind: ItemKind;
  readonly itemId: string;
  readonly userPrimaryId: string;
  readonly eventId: string;
  readonly eventType: string;
  /** ISO-8601 (`toISOString()` form) time of the Alma event this version reflects. */
  readonly eventTime: string;
  /** A removed item is kept as a tombstone until `expiresAt`, so that older events cannot bring it back. */
  readonly tombstone: boolean;
  /** Epoch seconds after which the store may drop the record. */
  readonly expiresAt: number;
  /** The Alma object, every field as sent. */
  readonly fields: Readonly<Record<string, unknown>>;
  /**
   * A patron's cache key (`userCacheKey`): the write may replace only a record that belongs to this patron (see
   * `recordOwner`, compared case-insensitively), or no record. A targeted refresh sets it on its tombstones, so that a
   * message naming one patron and another patron's record id cannot remove that record. Refused, the write is `stale`.
   */
  readonly onlyOwnedBy?: string;
}

/**
 * `written`: the store now holds this version. `stale`: it already held a newer one and kept it. `duplicate`: it
 * already held this very event (a redelivery) and holds it still; callers go on as for `written`, because the
 * earlier delivery may have failed after its item write.
 */
export type WriteResult = 'written' | 'stale' | 'duplicate';

/**
 * `updated`: the patron's id set changed (or already was right). `user-not-cached`: no such patron is cached.
 * `item-removed`: the patron's record says this item was removed, so it is not linked again.
 */
export type LinkResult = 'updated' | 'user-not-cached' | 'item-removed';

/**
 * How long the same claimant waits before it may claim its own unsent claim again. A cache-update function gives up
 * after 10 s and a failed message comes back after 60 s, so a true retry always waits longer; a copy of the same
 * event (Alma resends a webhook answered late, SNS and SQS deliver at least once) handled beside the first does not,
 * and is coalesced instead of sending a second refresh.
 */
export const CLAIM_RETRY_AFTER_SECONDS = 30;

/**
 * How far back a released claim's expiry is dated. A caller reads its clock once, when it starts (a cache-update
 * function gives up after 10 s), and hosts' clocks differ by far less: a claim released at its holder's `now` could
 * still look live to a webhook that read its clock a second earlier, which would then note its refresh on a claim
 * nobody holds.
 */
export const RELEASED_CLAIM_BACKDATE_SECONDS = 60;

export interface RefreshClaim {
  readonly userKey: string;
  /** Who claims: the Alma event id, so that a retry of the same event may claim again. */
  readonly claimant: string;
  readonly nowSeconds: number;
  readonly untilSeconds: number;
}

/** The user row (see {@link CachedUser}) a refresh writes; the store sets its version. */
export interface UserSnapshot {
  readonly userKey: string;
  readonly ids: Readonly<Record<ItemKind, ReadonlySet<string>>>;
  readonly removedIds: Readonly<Record<ItemKind, ReadonlySet<string>>>;
  /** ISO-8601 time the refresh started. */
  readonly refreshedAt: string;
  /** Epoch seconds after which the store may drop the record. */
  readonly expiresAt: number;
}

/**
 * The patron cache. Every method is one atomic, conditional write: no method reads then writes, so concurrent
 * events for one patron never lose each other's updates.
 */
export interface CacheStore {
  /**
   * Stores `record` unless the cache holds a newer version of the item. Ties: the same event may be written
   * again (replays are harmless, reported as `duplicate`); otherwise a tombstone beats a live record and the first
   * live record stays. With {@link ItemRecord.onlyOwnedBy}, a record of another patron is kept too (`stale`).
   */
  writeItem(record: ItemRecord): Promise<WriteResult>;
  /**
   * Adds the item's id to the patron's ids of that kind, only if the patron is cached and has not seen
   * the item removed. Alma never reuses a loan or request id, so a removal is final: an older event whose link
   * lands after a concurrent removal must not bring the id back.
   */
  linkItem(userKey: string, kind: ItemKind, itemId: string): Promise<LinkResult>;
  /**
   * Moves the item's id from the patron's ids of that kind to the ids seen removed, only if the patron is cached.
   */
  unlinkItem(userKey: string, kind: ItemKind, itemId: string): Promise<Exclude<LinkResult, 'item-removed'>>;
  /**
   * Takes the right to request a refresh of an unknown patron until `untilSeconds`. True when no one else holds
   * it, or the same claimant holds it, its request was not sent yet (see {@link markRefreshSent}) and it claimed at
   * least {@link CLAIM_RETRY_AFTER_SECONDS} ago: a retried event whose send failed re-sends, a redelivery of an event
   * whose send succeeded does not, and neither does a copy of the event handled at the same time as the first.
   */
  claimUserRefresh(claim: RefreshClaim): Promise<boolean>;
  /**
   * Records on the live claim the caller was refused (another claimant's, or its own copy's, sent or not) that a
   * refresh was coalesced into it, so that a claimant who gives the claim up ({@link releaseUserRefresh}) queues the
   * refresh instead. False when no claim is live (it was released or ran out meanwhile): then the caller may claim.
   */
  noteRefreshWanted(userKey: string, nowSeconds: number): Promise<boolean>;
  /**
   * Records on the claimant's claim that its refresh request went out, so that the claim is not granted to the
   * same claimant again. Does nothing when the claim is no longer this claimant's (it expired and was taken).
   */
  markRefreshSent(userKey: string, claimant: string): Promise<void>;
  /**
   * Gives the claimant's claim up before its time, because its refresh failed and nobody will run it: the next
   * caller may claim at once (its expiry becomes `expiredAt`, which the caller dates back far enough to be past for
   * every caller that may still be deciding: see {@link RELEASED_CLAIM_BACKDATE_SECONDS}). Does nothing when the
   * claim is no longer this claimant's, or its refresh request was sent (then the queue runs it). Keeps the claim,
   * and resolves true, when a refresh was coalesced into it ({@link noteRefreshWanted}) unless `evenIfWanted`: the
   * caller must queue the refresh then. False otherwise.
   */
  releaseUserRefresh(userKey: string, claimant: string, expiredAt: number, evenIfWanted?: boolean): Promise<boolean>;
  /**
   * Removes the placeholder a failed refresh left (see {@link beginUserRefresh}), so that it no longer reads as a
   * refresh still running: the patron is simply not cached, as before the refresh. Does nothing when the patron is
   * not cached, was refreshed meanwhile (it has `refreshedAt`), or a webhook changed the placeholder's ids (its
   * `version` is no longer 0): those ids are a webhook's, whose refresh the caller must queue instead. Resolves
   * true in that last case only (the placeholder kept for a webhook), false otherwise.
   */
  abandonUserRefresh(userKey: string): Promise<boolean>;
  /**
   * Creates an empty patron record, without `refreshedAt`, unless the patron is cached. A refresh does this before
   * it asks Alma, so that webhooks arriving during the refresh link their items instead of being lost.
   */
  beginUserRefresh(userKey: string, expiresAt: number): Promise<void>;
  /** The user's row, all of it but `expiresAt`, read strongly consistently; undefined when the user is not cached. */
  readUser(userKey: string): Promise<CachedUser | undefined>;
  /**
   * Replaces the patron's record with `snapshot`, only if its version is still `expectedVersion`. False when a
   * concurrent change got there first (read again and retry) or the record is gone.
   */
  replaceUser(snapshot: UserSnapshot, expectedVersion: number): Promise<boolean>;
  /** Deletes the patron's record, only if its version is still `expectedVersion`. False when it changed meanwhile. */
  deleteUser(userKey: string, expectedVersion: number): Promise<boolean>;
}

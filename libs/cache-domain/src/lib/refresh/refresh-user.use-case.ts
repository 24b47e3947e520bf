import { AlmaInvalidIdentifierError, AlmaUserNotFoundError } from '../errors';
import type { AlmaRecord } from '../shared/alma-api.port';
import { userCacheKey } from '../shared/alma-event';
import { identifierProblem } from '../shared/identifier';
import { ITEM_KINDS, ITEM_SHAPES, type ItemKind } from '../shared/cache-record';
import { recordFieldsProblem } from '../shared/record-fields';
import type { CachedUser } from '../shared/cached-user';
import { type RefreshDeps, type RefreshStamp, forEachConcurrently, refreshStamp, refreshedRecord, rememberUnknownPatron } from './refresh-support';

export interface KindCounts {
  /** Records Alma listed. */
  listed: number;
  /** Listed records written; the rest were `stale` (the cache held a newer webhook version) or `skipped` (no id). */
  written: number;
  stale: number;
  skipped: number;
  /** Records the patron had in the cache that Alma no longer lists. */
  removed: number;
}

/** A record Alma listed that the cache must not store (see `recordFieldsProblem`), and why. */
export interface RefusedRecord {
  readonly kind: ItemKind;
  readonly itemId: string;
  readonly reason: string;
}

export interface UserRefreshOutcome {
  readonly userKey: string;
  readonly result: 'refreshed' | 'user-not-found';
  readonly counts: Record<ItemKind, KindCounts>;
  /** Tries at writing the patron record: more than 1 when webhooks changed it meanwhile. */
  readonly attempts: number;
  /**
   * Listed records that were not written because the cache must not store them (counted in `skipped`). Each is left
   * as the cache had it: neither rewritten, nor linked anew, nor turned into a tombstone. Absent when there are none.
   */
  readonly refused?: readonly RefusedRecord[];
}

/** Writes in flight per refresh: enough to finish 250 records in well under a second, few enough to stay polite. */
const WRITE_CONCURRENCY = 8;
/** Each retry is caused by a webhook landing between one read and write; five in a row means something is wrong. */
const MAX_USER_ATTEMPTS = 5;

/**
 * Rebuilds a patron from Alma: every loan, request and fee Alma lists (all pages), and the patron's id sets.
 *
 * The snapshot is dated when the refresh started (less the clock-skew margin): a webhook newer than that wins
 * over it, record by record, with the same rule as webhooks among themselves. Records the patron had that Alma no
 * longer lists become tombstones, unless a newer webhook wrote them. The patron record is replaced last, with
 * optimistic concurrency, so an id a webhook linked or unlinked meanwhile is neither lost nor revived.
 *
 * @example
 * const outcome = await new RefreshUser(deps).execute('PAT0042X');
 * outcome.counts.loan; // { listed: 250, written: 250, stale: 0, skipped: 0, removed: 0 }
 * @throws AlmaUnavailableError, AlmaRequestError when Alma cannot be read (the message is retried)
 * @throws AlmaInvalidIdentifierError, before anything is written or asked, for an id that fails the identifier rule
 */
export class RefreshUser {
  public constructor(private readonly deps: RefreshDeps) {}

  public async execute(userPrimaryId: string): Promise<UserRefreshOutcome> {
    // Checked here too, before the first write: the row begun below and the row forgotten when Alma does not know the
    // patron must be the one named by the id Alma is asked about, which only a canonical id guarantees.
    const problem = identifierProblem(userPrimaryId);
    if (problem !== undefined) throw new AlmaInvalidIdentifierError('userPrimaryId', problem);
    const userKey = userCacheKey(userPrimaryId);
    const stamp = refreshStamp(this.deps, `user:${userKey}`);
    const counts = emptyCounts();
    // Before asking Alma, so that webhooks arriving during the refresh find the patron and link their items.
    await this.deps.store.beginUserRefresh(userKey, stamp.nowSeconds + this.deps.expiry.userSeconds);

    let snapshot: Record<ItemKind, readonly AlmaRecord[]>;
    try {
      // Loans first, alone: an id Alma does not know then costs one call, not three (ids are probed by strangers).
      const loan = await this.deps.alma.listRecords(userPrimaryId, 'loan');
      const [request, fee] = await Promise.all([
        this.deps.alma.listRecords(userPrimaryId, 'request'),
        this.deps.alma.listRecords(userPrimaryId, 'fee'),
      ]);
      snapshot = { loan, request, fee };
    } catch (error) {
      if (error instanceof AlmaUserNotFoundError) return this.forget(userKey, userPrimaryId, stamp, counts);
      throw error;
    }
    return this.writeSnapshot(userPrimaryId, snapshot, stamp);
  }

  /**
   * The write half of {@link execute}: writes a snapshot of the patron already read from Alma, dated by `stamp` (taken
   * before the read), with the same rule. For a caller that has read Alma itself (the drift audit repairing a patron),
   * so a repair costs no second set of Alma calls. The patron must be cached (a vanished row is begun again).
   *
   * @example
   * const stamp = refreshStamp(deps, `audit:${userKey}`);
   * const snapshot = { loan: await alma.listRecords(id, 'loan'), request: …, fee: … };
   * await refreshUser.writeSnapshot(id, snapshot, stamp);
   */
  public async writeSnapshot(
    userPrimaryId: string,
    snapshot: Readonly<Record<ItemKind, readonly AlmaRecord[]>>,
    stamp: RefreshStamp,
  ): Promise<UserRefreshOutcome> {
    const userKey = userCacheKey(userPrimaryId);
    const counts = emptyCounts();
    const listed = emptySets();
    const refused: RefusedRecord[] = [];
    for (const kind of ITEM_KINDS) {
      counts[kind].listed = snapshot[kind].length;
      await forEachConcurrently(snapshot[kind], WRITE_CONCURRENCY, async (record) => {
        const itemId = record[ITEM_SHAPES[kind].idField];
        if (typeof itemId !== 'string' || itemId === '') {
          counts[kind].skipped += 1;
          return;
        }
        const problem = recordFieldsProblem(record, kind, kind);
        if (problem) {
          // One damaged record must not fail the patron's whole refresh, nor be stored: it is left as the cache had it.
          counts[kind].skipped += 1;
          refused.push({ kind, itemId, reason: problem });
          return;
        }
        listed[kind].add(itemId);
        const result = await this.deps.store.writeItem(refreshedRecord(this.deps, stamp, { kind, itemId, userPrimaryId }, record));
        // A refresh's stamp is its own (`refresh:<subject>:<start>`), so a duplicate is only this write landing twice.
        counts[kind][result === 'duplicate' ? 'written' : result] += 1;
      });
    }
    const outcome = await this.replaceUser(userKey, userPrimaryId, stamp, listed, counts, refused);
    return refused.length > 0 ? { ...outcome, refused } : outcome;
  }

  private async replaceUser(
    userKey: string,
    userPrimaryId: string,
    stamp: RefreshStamp,
    listed: Record<ItemKind, Set<string>>,
    counts: Record<ItemKind, KindCounts>,
    refused: readonly RefusedRecord[],
  ): Promise<UserRefreshOutcome> {
    // Whether a cached id that Alma did not list is still live: decided once, by a conditional tombstone.
    const stillLive = new Map<string, boolean>();
    for (let attempt = 1; attempt <= MAX_USER_ATTEMPTS; attempt++) {
      const user = await this.deps.store.readUser(userKey);
      if (user === undefined) {
        // A concurrent refresh found the patron gone from Alma and deleted the record; start from empty again.
        await this.deps.store.beginUserRefresh(userKey, stamp.nowSeconds + this.deps.expiry.userSeconds);
        continue;
      }
      const ids = emptySets();
      const removedIds = copySets(user.removedIds);
      for (const kind of ITEM_KINDS) {
        // Refused records Alma still listed are neither live per this snapshot nor removed: the patron keeps what it had.
        const left = new Set(refused.filter((record) => record.kind === kind).map((record) => record.itemId));
        for (const id of left) if (user.ids[kind].has(id)) ids[kind].add(id);
        const unlisted = [...user.ids[kind]].filter((id) => !listed[kind].has(id) && !left.has(id));
        await forEachConcurrently(unlisted, WRITE_CONCURRENCY, async (itemId) => {
          const key = `${kind}:${itemId}`;
          if (stillLive.has(key)) return;
          const tombstone = refreshedRecord(this.deps, stamp, { kind, itemId, userPrimaryId }, undefined);
          stillLive.set(key, (await this.deps.store.writeItem(tombstone)) === 'stale');
        });
        for (const id of [...listed[kind], ...unlisted]) {
          if (stillLive.get(`${kind}:${id}`) === false) removedIds[kind].add(id);
          else if (!removedIds[kind].has(id)) ids[kind].add(id);
        }
        counts[kind].removed = unlisted.filter((id) => stillLive.get(`${kind}:${id}`) === false).length;
      }
      const snapshot = { userKey, ids, removedIds, refreshedAt: stamp.startedAt, expiresAt: stamp.nowSeconds + this.deps.expiry.userSeconds };
      if (await this.deps.store.replaceUser(snapshot, user.version)) return { userKey, result: 'refreshed', counts, attempts: attempt };
    }
    throw new Error(`patron ${userKey} changed during ${MAX_USER_ATTEMPTS} attempts in a row to write the refresh; the message will be retried`);
  }

  /** Alma has no such patron: their cached records become tombstones and the patron record goes. */
  private async forget(
    userKey: string,
    userPrimaryId: string,
    stamp: RefreshStamp,
    counts: Record<ItemKind, KindCounts>,
  ): Promise<UserRefreshOutcome> {
    // First: the query API then answers 404 for this id without asking Alma, even while the removal below runs.
    await rememberUnknownPatron(this.deps, userKey, stamp.nowSeconds);
    for (let attempt = 1; attempt <= MAX_USER_ATTEMPTS; attempt++) {
      const user: CachedUser | undefined = await this.deps.store.readUser(userKey);
      if (user === undefined) return { userKey, result: 'user-not-found', counts, attempts: attempt };
      for (const kind of ITEM_KINDS) {
        await forEachConcurrently(user.ids[kind], WRITE_CONCURRENCY, async (itemId) => {
          const tombstone = refreshedRecord(this.deps, stamp, { kind, itemId, userPrimaryId }, undefined);
          await this.deps.store.writeItem(tombstone);
        });
        counts[kind].removed = user.ids[kind].size;
      }
      if (await this.deps.store.deleteUser(userKey, user.version)) return { userKey, result: 'user-not-found', counts, attempts: attempt };
    }
    throw new Error(`patron ${userKey} changed during ${MAX_USER_ATTEMPTS} attempts in a row to remove it; the message will be retried`);
  }
}

const emptyCounts = (): Record<ItemKind, KindCounts> => ({
  loan: { listed: 0, written: 0, stale: 0, skipped: 0, removed: 0 },
  request: { listed: 0, written: 0, stale: 0, skipped: 0, removed: 0 },
  fee: { listed: 0, written: 0, stale: 0, skipped: 0, removed: 0 },
});

const emptySets = (): Record<ItemKind, Set<string>> => ({ loan: new Set(), request: new Set(), fee: new Set() });

const copySets = (sets: Readonly<Record<ItemKind, ReadonlySet<string>>>): Record<ItemKind, Set<string>> => ({
  loan: new Set(sets.loan),
  request: new Set(sets.request),
  fee: new Set(sets.fee),
});

import type { AlmaApi, AlmaRecord } from '../shared/alma-api.port';
import type { ItemKind } from '../shared/cache-record';
import type { CacheStore, ItemRecord } from '../shared/cache-store.port';
import type { Clock } from '../shared/clock.port';
import type { ExpiryPolicy } from '../shared/expiry-policy';
import type { UnknownPatrons } from '../shared/unknown-patrons.port';
import { WEBHOOK_SHAPES } from '../shared/alma-event';

/** What the refresh use cases need; the composition root provides it. */
export interface RefreshDeps {
  readonly store: CacheStore;
  readonly alma: AlmaApi;
  readonly clock: Clock;
  readonly expiry: ExpiryPolicy;
  /** Where a patron Alma does not know is remembered, so the query API stops asking Alma about them for a while. */
  readonly unknownPatrons?: UnknownPatrons;
}

/**
 * Remembers that Alma does not know the patron, for `expiry.unknownPatronSeconds`; a no-op without a negative cache.
 *
 * @example
 * await rememberUnknownPatron(deps, 'nobody', stamp.nowSeconds);
 */
export const rememberUnknownPatron = async (
  deps: Pick<RefreshDeps, 'unknownPatrons' | 'expiry'>,
  userKey: string,
  nowSeconds: number,
): Promise<void> => {
  await deps.unknownPatrons?.remember(userKey, nowSeconds + deps.expiry.unknownPatronSeconds);
};

/** The `alma_event_type` of records a refresh writes, so readers can tell them from webhook versions. */
export const REFRESH_EVENT_TYPE = 'REFRESH';

/**
 * When a refresh happened, in the terms of the cache's ordering rule. Its records are dated `eventTime`: the start,
 * less the clock-skew margin, so every webhook stamped after the snapshot was taken wins over it.
 */
export interface RefreshStamp {
  readonly eventId: string;
  readonly eventTime: string;
  readonly startedAt: string;
  readonly nowSeconds: number;
}

export const refreshStamp = (deps: Pick<RefreshDeps, 'clock' | 'expiry'>, subject: string): RefreshStamp => {
  const now = deps.clock.now();
  const startedAt = now.toISOString();
  return {
    eventId: `refresh:${subject}:${startedAt}`,
    eventTime: new Date(now.getTime() - deps.expiry.clockSkewSeconds * 1000).toISOString(),
    startedAt,
    nowSeconds: Math.floor(now.getTime() / 1000),
  };
};

/**
 * A record version as of the refresh. A tombstone keeps only the patron's id (where webhooks carry it), which is
 * all a reader of a removed record needs.
 */
export const refreshedRecord = (
  deps: Pick<RefreshDeps, 'expiry'>,
  stamp: RefreshStamp,
  target: { kind: ItemKind; itemId: string; userPrimaryId: string },
  alma: AlmaRecord | undefined,
): ItemRecord => {
  const tombstone = alma === undefined;
  const userField = target.kind === 'fee' ? undefined : WEBHOOK_SHAPES[target.kind].userField;
  return {
    ...target,
    eventId: stamp.eventId,
    eventType: REFRESH_EVENT_TYPE,
    eventTime: stamp.eventTime,
    tombstone,
    expiresAt: stamp.nowSeconds + (tombstone ? deps.expiry.tombstoneSeconds : deps.expiry.itemSeconds),
    fields: alma ?? (userField ? { [userField]: target.userPrimaryId } : {}),
  };
};

/** Runs `work` over `items` with at most `limit` in flight: a patron with 250 loans is 250 writes, not 250 at once. */
export const forEachConcurrently = async <T>(items: Iterable<T>, limit: number, work: (item: T) => Promise<void>): Promise<void> => {
  const all = [...items];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < all.length) await work(all[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, all.length) }, worker));
};

import { AlmaUserNotFoundError, PatronNotFoundError } from '../errors';
import type { AlmaApi, AlmaRecord } from '../shared/alma-api.port';
import { userCacheKey } from '../shared/alma-event';
import type { ItemKind } from '../shared/cache-record';
import type { CachedUser } from '../shared/cached-user';
import type { CacheReader } from './cache-reader.port';
import type { Clock } from '../shared/clock.port';
import { answerMiss, type PatronMissDeps } from './patron-miss';
import { askAlma, epochSeconds, isCompletePatron, isOwnedBy, judgeCachedItem, sortById } from './patron-query-rules';
import type { UserRefreshQueue } from '../shared/user-refresh-queue.port';

/** What the query use cases need; the composition root provides it. */
export interface PatronQueryDeps {
  readonly cache: CacheReader;
  readonly alma: AlmaApi;
  readonly refreshQueue: UserRefreshQueue;
  readonly clock: Clock;
  /**
   * How misses are answered without draining Alma (claim, negative cache, inline rebuild: see `answerMiss`). The
   * query API always gives it; without it (a wiring with read-only access to the cache) a miss asks Alma directly
   * and queues a refresh, every time.
   */
  readonly miss?: PatronMissDeps;
}

/** Whether a patron read from Alma was queued for a refresh. A failed send is reported, never thrown: the answer stands. */
export type RefreshRequestOutcome = { readonly queued: true } | { readonly queued: false; readonly error: unknown };

/**
 * A query's answer and where it came from (`alma`: this request read Alma, directly or by rebuilding the patron).
 * `refresh` is set when the answer came from Alma directly (no `miss` wiring): the patron was queued for a rebuild.
 */
export interface PatronQueryAnswer<T> {
  readonly value: T;
  readonly source: 'cache' | 'alma';
  readonly refresh?: RefreshRequestOutcome;
}

/** A patron's records of the kinds asked for, each list ordered by id. */
export type PatronRecords<K extends ItemKind = ItemKind> = Record<K, AlmaRecord[]>;

/** Asks for the patron's refresh; the outcome is the caller's to log. */
export const requestPatronRefresh = async (queue: UserRefreshQueue, userPrimaryId: string): Promise<RefreshRequestOutcome> => {
  try {
    await queue.requestRefresh(userPrimaryId);
    return { queued: true };
  } catch (error) {
    return { queued: false, error };
  }
};

/**
 * The patron's records of `kinds`, cache first. The cache answers when the patron is cached completely (not a
 * placeholder, not expired) and every id in the patron's sets has a record that is live or a tombstone; otherwise
 * (a miss) Alma's lists answer and the patron is queued for a refresh, which repairs the cache.
 *
 * @throws PatronNotFoundError when the patron is not cached and Alma does not know them
 * @throws PatronDataUnavailableError when the patron is not cached and Alma is throttling or down
 * @throws AlmaRequestError when Alma refused the request (bad API key): a fault of this service
 */
export const readPatronRecords = async <K extends ItemKind>(
  deps: PatronQueryDeps,
  userPrimaryId: string,
  kinds: readonly K[],
): Promise<PatronQueryAnswer<PatronRecords<K>>> => {
  const userKey = userCacheKey(userPrimaryId);
  const nowSeconds = epochSeconds(deps.clock.now());
  const user = await deps.cache.readUser(userKey);
  if (isCompletePatron(user, nowSeconds)) {
    const cached = await fromCache(deps.cache, user, kinds, nowSeconds);
    if (cached !== undefined) return { value: cached, source: 'cache' };
  }
  if (deps.miss) {
    return answerMiss(deps, deps.miss, userPrimaryId, user, async () => {
      const now = epochSeconds(deps.clock.now());
      const current = await deps.cache.readUser(userKey);
      return isCompletePatron(current, now) ? fromCache(deps.cache, current, kinds, now) : undefined;
    });
  }

  const lists = await askAlma(userPrimaryId, async () => {
    try {
      return await Promise.all(kinds.map((kind) => deps.alma.listRecords(userPrimaryId, kind)));
    } catch (error) {
      if (error instanceof AlmaUserNotFoundError) throw new PatronNotFoundError(userPrimaryId);
      throw error;
    }
  });
  const value = {} as PatronRecords<K>;
  kinds.forEach((kind, index) => {
    value[kind] = sortById(
      kind,
      lists[index].filter((record) => isOwnedBy(userKey, kind, record)),
    );
  });
  return { value, source: 'alma', refresh: await requestPatronRefresh(deps.refreshQueue, userPrimaryId) };
};

/** The records from the cache, or undefined when one the patron's sets name is missing or expired. */
const fromCache = async <K extends ItemKind>(
  cache: CacheReader,
  user: Pick<CachedUser, 'userKey' | 'ids'>,
  kinds: readonly K[],
  nowSeconds: number,
): Promise<PatronRecords<K> | undefined> => {
  const read = await Promise.all(kinds.map((kind) => cache.readItems(kind, user.ids[kind])));
  const value = {} as PatronRecords<K>;
  for (const [index, kind] of kinds.entries()) {
    const served: AlmaRecord[] = [];
    for (const itemId of user.ids[kind]) {
      const judged = judgeCachedItem(user.userKey, read[index].get(itemId), nowSeconds);
      if (judged.verdict === 'missing') return undefined;
      if (judged.verdict === 'serve') served.push(judged.fields);
    }
    value[kind] = sortById(kind, served);
  }
  return value;
};

import { userCacheKey } from '../shared/alma-event';
import type { CachedUser } from '../shared/cached-user';
import { type CacheStore, RELEASED_CLAIM_BACKDATE_SECONDS } from '../shared/cache-store.port';
import type { Clock } from '../shared/clock.port';
import type { ExpiryPolicy } from '../shared/expiry-policy';
import { type AlmaUnavailability, PatronDataUnavailableError, PatronNotFoundError } from '../errors';
import { askAlma, epochSeconds } from './patron-query-rules';
import type { UnknownPatrons } from '../shared/unknown-patrons.port';
import type { UserRefreshQueue } from '../shared/user-refresh-queue.port';

/**
 * What the query API needs to answer a miss without draining Alma: the webhooks' refresh claim (one rebuild per
 * patron per window, webhooks and queries alike), the negative cache, and the bulk refresh's `RefreshUser`, run
 * inline by the one query that holds the claim.
 */
export interface PatronMissDeps {
  readonly store: Pick<CacheStore, 'claimUserRefresh' | 'markRefreshSent' | 'releaseUserRefresh' | 'abandonUserRefresh'>;
  readonly unknownPatrons: UnknownPatrons;
  /**
   * `RefreshUser`: the same rebuild, with the same consistency rules, as the Users queue's. Typed by the one field a
   * miss reads, so the query slice does not import the refresh slice.
   */
  readonly refreshUser: { execute(userPrimaryId: string): Promise<{ readonly result: 'refreshed' | 'user-not-found' }> };
  readonly expiry: Pick<ExpiryPolicy, 'refreshWindowSeconds' | 'userSeconds'>;
  /** A claimant id no other request uses: a query's claim is its own, never re-granted to another query. */
  readonly newClaimant: () => string;
  readonly sleep: (ms: number) => Promise<void>;
  /** How long a miss waits for a rebuild another caller is running before answering 503. Default 3000 ms. */
  readonly waitForRefreshMs?: number;
  /** Between two looks at the cache while waiting. Default 250 ms. */
  readonly pollIntervalMs?: number;
}

/** What a miss answers with, and whether this request rebuilt the patron from Alma. */
export interface MissAnswer<T> {
  readonly value: T;
  /** `alma`: this request rebuilt the patron; `cache`: another caller's rebuild answered it. */
  readonly source: 'cache' | 'alma';
}

/** Seconds a caller is told to wait for a rebuild someone else is running: a patron takes a second or two. */
export const REFRESH_PENDING_RETRY_AFTER_SECONDS = 2;

/**
 * Answers a query the cache could not answer, spending at most one Alma rebuild per patron per window:
 *
 * 1. An id Alma said it does not know (the negative cache) is a 404 at once: no Alma call.
 * 2. A patron whose first refresh is still running (a placeholder younger than the refresh window) is not fetched
 *    again: the query waits for that refresh.
 * 3. Otherwise the query takes the patron's refresh claim, the one the webhooks take. The one holder rebuilds the
 *    patron inline through `RefreshUser` and answers from the cache it wrote; everyone else (a concurrent query, a
 *    webhook's queued refresh, a rebuild that just finished) waits up to `waitForRefreshMs` for the cache to answer.
 * 4. Still nothing: 503 with `Retry-After` ({@link PatronDataUnavailableError} `refreshing`), without calling Alma.
 *
 * When the holder's rebuild fails because Alma is unavailable or the stage's budget had no call left in time, the
 * patron goes on the Users queue (the bulk refresh retries patiently) and the claim stays taken, marked sent, so the
 * window's other misses do not hammer a struggling Alma. On every other failure (this caller's share of the budget
 * spent, an Alma refusal, DynamoDB throttling, a failed send to the queue, anything unexpected) the claim is released
 * and the placeholder the rebuild wrote removed: the patron is free to be rebuilt by the next miss or webhook, never
 * blocked for the window by a rebuild that is not running.
 *
 * @example
 * const answer = await answerMiss(deps, miss, 'PAT0042X', user, () => readFromCache());
 * answer.source; // 'alma' when this request rebuilt the patron
 * @throws PatronNotFoundError when Alma does not know the patron (now, or within the negative cache's time)
 * @throws PatronDataUnavailableError when Alma is throttling or down, the stage's budget is busy or the caller's share
 * of it spent, or another caller's rebuild is not done yet
 */
export const answerMiss = async <T>(
  deps: { readonly clock: Clock; readonly refreshQueue: UserRefreshQueue },
  miss: PatronMissDeps,
  userPrimaryId: string,
  user: Pick<CachedUser, 'refreshedAt' | 'expiresAt'> | undefined,
  fromCache: () => Promise<T | undefined>,
): Promise<MissAnswer<T>> => {
  const userKey = userCacheKey(userPrimaryId);
  const nowSeconds = epochSeconds(deps.clock.now());
  if (await miss.unknownPatrons.isUnknown(userKey, nowSeconds)) throw new PatronNotFoundError(userPrimaryId);

  const claimant = miss.newClaimant();
  const claimed =
    !isRefreshRunning(user, miss.expiry, nowSeconds) &&
    (await miss.store.claimUserRefresh({ userKey, claimant, nowSeconds, untilSeconds: nowSeconds + miss.expiry.refreshWindowSeconds }));
  if (!claimed) return { value: await waitForCache(miss, userPrimaryId, userKey, nowSeconds, fromCache), source: 'cache' };

  let outcome: Awaited<ReturnType<PatronMissDeps['refreshUser']['execute']>>;
  try {
    outcome = await askAlma(userPrimaryId, () => miss.refreshUser.execute(userPrimaryId));
  } catch (error) {
    const queued =
      error instanceof PatronDataUnavailableError &&
      QUEUED_ON.has(error.unavailability) &&
      (await handOverToQueue(deps.refreshQueue, miss, userPrimaryId, userKey, claimant));
    if (!queued) await giveUpClaim(deps.refreshQueue, miss, userPrimaryId, userKey, claimant, epochSeconds(deps.clock.now()));
    throw error;
  }
  if (outcome.result === 'user-not-found') throw new PatronNotFoundError(userPrimaryId);
  // Read back what the rebuild wrote; the reader may lag a write by a moment, hence the same short wait.
  return { value: await waitForCache(miss, userPrimaryId, userKey, nowSeconds, fromCache), source: 'alma' };
};

/**
 * A placeholder (no `refreshedAt`) is written by a refresh before it asks Alma. Younger than the refresh window, it
 * means that refresh is still running; older, that refresh died, and the patron may be rebuilt again.
 */
const isRefreshRunning = (
  user: Pick<CachedUser, 'refreshedAt' | 'expiresAt'> | undefined,
  expiry: PatronMissDeps['expiry'],
  nowSeconds: number,
): boolean => {
  if (user === undefined || user.refreshedAt !== undefined || user.expiresAt === undefined) return false;
  const createdAt = user.expiresAt - expiry.userSeconds;
  return nowSeconds - createdAt < expiry.refreshWindowSeconds;
};

const waitForCache = async <T>(
  miss: PatronMissDeps,
  userPrimaryId: string,
  userKey: string,
  nowSeconds: number,
  fromCache: () => Promise<T | undefined>,
): Promise<T> => {
  const interval = miss.pollIntervalMs ?? 250;
  const looks = Math.max(1, Math.ceil((miss.waitForRefreshMs ?? 3000) / interval));
  for (let look = 1; ; look += 1) {
    const value = await fromCache();
    if (value !== undefined) return value;
    // The rebuild we wait for may have found the patron unknown.
    if (await miss.unknownPatrons.isUnknown(userKey, nowSeconds)) throw new PatronNotFoundError(userPrimaryId);
    if (look >= looks) break;
    await miss.sleep(interval);
  }
  throw new PatronDataUnavailableError(userPrimaryId, 'refreshing', REFRESH_PENDING_RETRY_AFTER_SECONDS);
};

/**
 * The failures the Users queue is for: Alma (or the stage's budget) cannot answer now, and will later. A caller's
 * spent share is not one of them: an id enumerated by one reader is no reason to spend the bulk refresh's calls.
 */
const QUEUED_ON: ReadonlySet<AlmaUnavailability> = new Set<AlmaUnavailability>(['throttled', 'daily-limit', 'unavailable', 'budget-busy']);

/**
 * The inline rebuild could not reach Alma: the Users queue takes the patron (its consumer retries for minutes), and
 * the claim, kept and marked sent, says so. False when the send failed: then nobody runs the rebuild, and the caller
 * gives the claim up. The caller's answer is the 429/503 either way.
 */
const handOverToQueue = async (
  queue: UserRefreshQueue,
  miss: PatronMissDeps,
  userPrimaryId: string,
  userKey: string,
  claimant: string,
): Promise<boolean> => {
  try {
    await queue.requestRefresh(userPrimaryId);
  } catch {
    return false;
  }
  try {
    await miss.store.markRefreshSent(userKey, claimant);
  } catch {
    // The message is out: the claim, unmarked, still blocks other misses until the window ends or the queue's rebuild answers.
  }
  return true;
};

/**
 * The rebuild failed and nobody will run it: the claim is released and the placeholder it wrote removed, so the next
 * miss or webhook may rebuild the patron at once. Best effort: if DynamoDB refuses these too, the claim runs out at
 * the end of the window as before, and the caller is answered with the rebuild's own failure.
 *
 * Unless a webhook changed the placeholder's ids meanwhile (`abandonUserRefresh` keeps such a placeholder, in the same
 * conditional delete, so no link can slip in between): that webhook took the placeholder for a cached patron and asked
 * for no refresh of its own, so dropping the rebuild would leave its patron uncached until the next miss (the load run
 * found such patrons). Then the patron goes on the Users queue instead, as a webhook's refresh would have.
 *
 * The claim goes first: a webhook landing after it finds either the placeholder (it links, and the delete keeps the
 * row and queues) or no row and a free claim (it queues its own refresh). Released last, a webhook landing between
 * the delete and the release found no row and a taken claim, and its refresh was coalesced into one nobody ran. A
 * webhook that landed before the placeholder was written found no row and this claim: it noted its refresh on the
 * claim, which is then kept and the patron queued.
 */
const giveUpClaim = async (
  queue: UserRefreshQueue,
  miss: PatronMissDeps,
  userPrimaryId: string,
  userKey: string,
  claimant: string,
  nowSeconds: number,
): Promise<void> => {
  const expiredAt = nowSeconds - RELEASED_CLAIM_BACKDATE_SECONDS;
  const wanted = await miss.store.releaseUserRefresh(userKey, claimant, expiredAt).catch(() => false);
  // A webhook coalesced into the claim (it came before the placeholder, so had nothing to link to): its refresh is due.
  // Should the queue refuse it too, the claim is given up all the same, so the next miss or webhook rebuilds at once.
  if (wanted && (await handOverToQueue(queue, miss, userPrimaryId, userKey, claimant))) return;
  if (wanted) await miss.store.releaseUserRefresh(userKey, claimant, expiredAt, true).catch(() => false);
  const linkedMeanwhile = await miss.store.abandonUserRefresh(userKey).catch(() => false);
  if (linkedMeanwhile) await handOverToQueue(queue, miss, userPrimaryId, userKey, claimant);
};

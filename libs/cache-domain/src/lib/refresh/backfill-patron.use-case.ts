import { MalformedRefreshMessageError } from '../errors';
import { userCacheKey } from '../shared/alma-event';
import type { CacheStore } from '../shared/cache-store.port';
import type { Clock } from '../shared/clock.port';
import type { ExpiryPolicy } from '../shared/expiry-policy';
import { identifierProblem } from '../shared/identifier';
import type { UserRefreshQueue } from '../shared/user-refresh-queue.port';

/**
 * What a warm-up backfill did with one patron:
 * - `cached`: the patron is already complete in the cache (a Users row with `refreshed_at`): nothing sent;
 * - `queued`: this backfill took the patron's refresh claim and put the patron on the Users queue;
 * - `already-requested`: someone holds the claim in this window (a webhook queued the patron, a query miss is
 *   rebuilding them inline, or this very run sent them before it was interrupted): nothing sent.
 */
export type BackfillOutcome = 'cached' | 'queued' | 'already-requested';

/** The ports a backfill needs: the same claim and Users queue as the webhooks, and the Users row to skip on. */
export interface BackfillPatronDeps {
  readonly store: Pick<CacheStore, 'readUser' | 'claimUserRefresh' | 'markRefreshSent'>;
  readonly refreshQueue: UserRefreshQueue;
  readonly clock: Clock;
  readonly expiry: Pick<ExpiryPolicy, 'refreshWindowSeconds'>;
}

/**
 * Hands one patron to the bulk refresh for a warm-up, unless the cache already has them. The refresh itself is the
 * Users queue's (`update-user`): this only decides whether to ask, through the refresh claim the webhooks and the
 * query misses take, so that a patron is never rebuilt twice at once whoever else asks in the same window.
 *
 * The claimant is the run (`backfill:<run name>`), the same for every patron of that run: a run resumed after it
 * stopped between the claim and the send gets the claim again and sends (the claim was not marked sent), while a run
 * resumed after the send finds its own marked claim and sends nothing more.
 *
 * @example
 * const backfill = new BackfillPatron(deps, 'semester-start');
 * await backfill.execute('PAT0042X'); // 'queued', then 'already-requested' within the window, 'cached' once rebuilt
 * @throws MalformedRefreshMessageError when the id fails the identifier rule (nothing is read or sent)
 */
export class BackfillPatron {
  private readonly claimant: string;

  public constructor(
    private readonly deps: BackfillPatronDeps,
    runName: string,
  ) {
    this.claimant = `backfill:${runName}`;
  }

  public async execute(userPrimaryId: string): Promise<BackfillOutcome> {
    const problem = identifierProblem(userPrimaryId);
    if (problem !== undefined) throw new MalformedRefreshMessageError(`a backfilled patron id ${problem}`);
    const userKey = userCacheKey(userPrimaryId);
    const user = await this.deps.store.readUser(userKey);
    // A row without refreshedAt is a placeholder (a refresh began and may have died): not complete, so it is asked for.
    if (user?.refreshedAt !== undefined) return 'cached';

    const nowSeconds = Math.floor(this.deps.clock.now().getTime() / 1000);
    const claimed = await this.deps.store.claimUserRefresh({
      userKey,
      claimant: this.claimant,
      nowSeconds,
      untilSeconds: nowSeconds + this.deps.expiry.refreshWindowSeconds,
    });
    if (!claimed) return 'already-requested';
    await this.deps.refreshQueue.requestRefresh(userPrimaryId);
    // After the send, as the webhooks do: a failed send leaves the claim unmarked, so the resumed run sends again.
    await this.deps.store.markRefreshSent(userKey, this.claimant);
    return 'queued';
  }
}

import { AlmaRequestError, AlmaUserNotFoundError, PatronItemNotFoundError, PatronNotFoundError } from '../errors';
import type { AlmaRecord } from '../shared/alma-api.port';
import { userCacheKey } from '../shared/alma-event';
import type { ItemKind } from '../shared/cache-record';
import { type PatronQueryAnswer, type PatronQueryDeps, requestPatronRefresh } from './patron-query';
import { answerMiss } from './patron-miss';
import { askAlma, epochSeconds, isAlmaRecordOf, isCompletePatron, judgeCachedItem, validQueryId } from './patron-query-rules';

/** Which record of which patron. */
export interface PatronItemQuery {
  readonly userPrimaryId: string;
  readonly kind: ItemKind;
  readonly itemId: string;
}

/**
 * One record, scoped to the patron: it is served only when it is theirs, which in the cache means its id is in the
 * patron's id set (and, when the record names a patron, it names them), and from Alma that the record carries the id
 * asked for and names this patron as its owner (see `isAlmaRecordOf`; a record naming no owner is not served). Another patron's record is a 404 exactly
 * like one that does not exist, so ids cannot be probed across patrons.
 *
 * Cache first. When the patron is not cached completely, or the set names the record but the cache lost it, Alma
 * answers (one call) and the patron is queued for a refresh. A cached patron whose set does not name the record
 * gets a 404 without asking Alma: the cache is the answer for cached patrons.
 *
 * @example
 * const answer = await new GetPatronItem(deps).execute({ userPrimaryId: 'PAT0042X', kind: 'loan', itemId: '7391…' });
 * answer.value; // { loan_id: '7391…', due_date: '…', … }
 * @throws InvalidPatronQueryError when an id cannot be one
 * @throws PatronItemNotFoundError when the patron has no such live record, or Alma answered the record with a 400/404
 *   it did not explain, or with a record that is not the one asked for
 * @throws PatronNotFoundError when neither the cache nor Alma knows the patron
 * @throws PatronDataUnavailableError when the cache cannot answer and Alma is throttling or down
 */
export class GetPatronItem {
  public constructor(private readonly deps: PatronQueryDeps) {}

  public async execute(query: PatronItemQuery): Promise<PatronQueryAnswer<AlmaRecord>> {
    const userPrimaryId = validQueryId(query.userPrimaryId, 'patron id');
    const itemId = validQueryId(query.itemId, `${query.kind} id`);
    const { kind } = query;
    const userKey = userCacheKey(userPrimaryId);
    const notFound = () => new PatronItemNotFoundError(userPrimaryId, kind, itemId);
    const nowSeconds = epochSeconds(this.deps.clock.now());

    // Both reads at once: a hit costs the latency of one.
    const [user, item] = await Promise.all([this.deps.cache.readUser(userKey), this.deps.cache.readItem(kind, itemId)]);
    if (isCompletePatron(user, nowSeconds)) {
      if (!user.ids[kind].has(itemId)) throw notFound();
      const judged = judgeCachedItem(userKey, item, nowSeconds);
      if (judged.verdict === 'serve') return { value: judged.fields, source: 'cache' };
      if (judged.verdict === 'hide') throw notFound();
    }
    if (this.deps.miss) {
      // The patron is rebuilt (or waited for) once, then the record is judged in the cache like a hit.
      return answerMiss(this.deps, this.deps.miss, userPrimaryId, user, async () => {
        const now = epochSeconds(this.deps.clock.now());
        const [current, currentItem] = await Promise.all([this.deps.cache.readUser(userKey), this.deps.cache.readItem(kind, itemId)]);
        if (!isCompletePatron(current, now)) return undefined;
        if (!current.ids[kind].has(itemId)) throw notFound();
        const judged = judgeCachedItem(userKey, currentItem, now);
        if (judged.verdict === 'hide') throw notFound();
        return judged.verdict === 'serve' ? judged.fields : undefined;
      });
    }

    const record = await askAlma(userPrimaryId, async () => {
      try {
        return await this.deps.alma.getRecord(userPrimaryId, kind, itemId);
      } catch (error) {
        if (error instanceof AlmaUserNotFoundError) throw new PatronNotFoundError(userPrimaryId);
        // Alma's 400/404 with a code the client does not know: whatever it means, Alma gave no record of this
        // patron's, which is what a 404 says. Other refusals (401/403: our key) stay this service's fault.
        if (error instanceof AlmaRequestError && (error.status === 400 || error.status === 404)) throw notFound();
        throw error;
      }
    });
    if (record === undefined || !isAlmaRecordOf(userKey, kind, itemId, record)) throw notFound();
    return { value: record, source: 'alma', refresh: await requestPatronRefresh(this.deps.refreshQueue, userPrimaryId) };
  }
}

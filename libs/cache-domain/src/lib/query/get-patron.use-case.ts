import { ITEM_KINDS } from '../shared/cache-record';
import { type PatronQueryAnswer, type PatronQueryDeps, type PatronRecords, readPatronRecords } from './patron-query';
import { validQueryId } from './patron-query-rules';

/** A patron with all their records: what `GET /users/{id}` answers. */
export interface PatronView {
  /** The id as the caller gave it: Alma matches primary ids case-insensitively, the cache keys them lower-cased. */
  readonly primaryId: string;
  readonly records: PatronRecords;
}

/**
 * A patron's loans, requests and fees, cache first; on a miss, from Alma, and the patron is queued for a refresh.
 * Tombstones, expired records and records naming another patron are never served.
 *
 * @example
 * const answer = await new GetPatron(deps).execute('PAT0042X');
 * answer.source;                   // 'cache'
 * answer.value.records.loan.length; // 3
 * @throws InvalidPatronQueryError when the id cannot be a patron's
 * @throws PatronNotFoundError when neither the cache nor Alma knows the patron
 * @throws PatronDataUnavailableError when the patron is not cached and Alma is throttling or down
 */
export class GetPatron {
  public constructor(private readonly deps: PatronQueryDeps) {}

  public async execute(userPrimaryId: string): Promise<PatronQueryAnswer<PatronView>> {
    const primaryId = validQueryId(userPrimaryId, 'patron id');
    const answer = await readPatronRecords(this.deps, primaryId, ITEM_KINDS);
    return { ...answer, value: { primaryId, records: answer.value } };
  }
}

import type { AlmaRecord } from '../shared/alma-api.port';
import type { ItemKind } from '../shared/cache-record';
import { type PatronQueryAnswer, type PatronQueryDeps, readPatronRecords } from './patron-query';
import { validQueryId } from './patron-query-rules';

/** One kind of a patron's records: what `GET /users/{id}/loans` (requests, fees) answers. */
export interface PatronItemsView {
  readonly primaryId: string;
  readonly kind: ItemKind;
  /** Ordered by id. */
  readonly records: AlmaRecord[];
}

/**
 * A patron's records of one kind, cache first; on a miss, Alma's list of that kind only (one kind costs a third of
 * the Alma calls of the whole patron), and the patron is queued for a refresh.
 *
 * @example
 * const answer = await new ListPatronItems(deps).execute('PAT0042X', 'fee');
 * answer.value.records; // [{ id: '6612…', balance: 3.5, … }]
 * @throws InvalidPatronQueryError, PatronNotFoundError, PatronDataUnavailableError as {@link GetPatron}
 */
export class ListPatronItems {
  public constructor(private readonly deps: PatronQueryDeps) {}

  public async execute(userPrimaryId: string, kind: ItemKind): Promise<PatronQueryAnswer<PatronItemsView>> {
    const primaryId = validQueryId(userPrimaryId, 'patron id');
    const answer = await readPatronRecords(this.deps, primaryId, [kind]);
    return { ...answer, value: { primaryId, kind, records: answer.value[kind] } };
  }
}

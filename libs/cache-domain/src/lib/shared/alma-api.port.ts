import type { ItemKind } from './cache-record';

/** One Alma object (Item Loan, User Request or Fee), every field as Alma sent it. */
export type AlmaRecord = Readonly<Record<string, unknown>>;

/**
 * Read access to a patron's records in the Alma REST API. Implementations page, retry throttling (429), server
 * errors and timeouts themselves; what reaches the caller is final.
 *
 * @example
 * const loans = await alma.listRecords('PAT0042X', 'loan'); // every page, not just the first 10
 */
export interface AlmaApi {
  /**
   * Every record of `kind` that Alma lists for the patron, all pages. An empty list when the patron has none.
   *
   * @throws AlmaUserNotFoundError when Alma has no such patron
   * @throws AlmaUnavailableError when Alma throttled or failed on every attempt
   * @throws AlmaRequestError when Alma refused the request for another reason (bad API key, bad id…)
   */
  listRecords(userPrimaryId: string, kind: ItemKind): Promise<readonly AlmaRecord[]>;
  /**
   * One record of the patron, or `undefined` when Alma has no such record for that patron.
   *
   * @throws AlmaUserNotFoundError when Alma has no such patron
   * @throws AlmaUnavailableError when Alma throttled or failed on every attempt
   * @throws AlmaRequestError when Alma refused the request for another reason
   */
  getRecord(userPrimaryId: string, kind: ItemKind, recordId: string): Promise<AlmaRecord | undefined>;
}

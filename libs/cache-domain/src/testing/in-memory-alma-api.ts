import { AlmaUserNotFoundError } from '../lib/errors';
import type { AlmaApi, AlmaRecord } from '../lib/shared/alma-api.port';
import { userCacheKey } from '../lib/shared/alma-event';
import { ITEM_SHAPES, type ItemKind } from '../lib/shared/cache-record';

type Patron = Record<ItemKind, AlmaRecord[]>;

/**
 * An AlmaApi in memory for use-case tests. Patrons are matched by `userCacheKey` (ASCII case only), as the stack
 * assumes Alma matches primary ids.
 * The HTTP adapter has its own fake server; this one only holds data.
 *
 * @example
 * const alma = new InMemoryAlmaApi();
 * alma.seed('PAT0042X', { loan: [{ loan_id: 'l1', user_id: 'PAT0042X' }] });
 */
export class InMemoryAlmaApi implements AlmaApi {
  public readonly patrons = new Map<string, Patron>();
  /** Every call, in order, e.g. `list loan PAT0042X`. */
  public readonly calls: string[] = [];
  private readonly failures: Error[] = [];

  public seed(userPrimaryId: string, records: Partial<Patron> = {}): Patron {
    const patron = { loan: [], request: [], fee: [], ...records };
    this.patrons.set(userCacheKey(userPrimaryId), patron);
    return patron;
  }

  /** Makes the next call fail with `error`. */
  public failNext(error: Error): void {
    this.failures.push(error);
  }

  public async listRecords(userPrimaryId: string, kind: ItemKind): Promise<readonly AlmaRecord[]> {
    this.calls.push(`list ${kind} ${userPrimaryId}`);
    return [...this.patron(userPrimaryId)[kind]];
  }

  public async getRecord(userPrimaryId: string, kind: ItemKind, recordId: string): Promise<AlmaRecord | undefined> {
    this.calls.push(`get ${kind} ${userPrimaryId} ${recordId}`);
    return this.patron(userPrimaryId)[kind].find((record) => record[ITEM_SHAPES[kind].idField] === recordId);
  }

  private patron(userPrimaryId: string): Patron {
    const failure = this.failures.shift();
    if (failure) throw failure;
    const patron = this.patrons.get(userCacheKey(userPrimaryId));
    if (!patron) throw new AlmaUserNotFoundError(userPrimaryId);
    return patron;
  }
}

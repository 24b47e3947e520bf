import {
  AlmaRequestError,
  type AlmaApi,
  type AlmaRecord,
  GetPatron,
  GetPatronItem,
  InvalidPatronQueryError,
  type ItemKind,
  ListPatronItems,
  MAX_IDENTIFIER_LENGTH,
  PatronItemNotFoundError,
  type PatronQueryDeps,
  QueuePatronRefresh,
} from '../../src';
import { isAlmaRecordOf } from '../../src/lib/query/patron-query-rules';
import { InMemoryCacheReader, InMemoryUserRefreshQueue, ManualClock } from '../../src/testing';

/** Alma as an attacker would like it: whatever `answer` says, for any path, and every call written down. */
class ScriptedAlma implements AlmaApi {
  public readonly calls: string[] = [];
  public constructor(private readonly answer: (kind: ItemKind, recordId?: string) => AlmaRecord | undefined | Error) {}

  public async listRecords(userPrimaryId: string, kind: ItemKind): Promise<readonly AlmaRecord[]> {
    this.calls.push(`list ${kind} ${userPrimaryId}`);
    const answer = this.answer(kind);
    if (answer instanceof Error) throw answer;
    return answer === undefined ? [] : [answer];
  }

  public async getRecord(userPrimaryId: string, kind: ItemKind, recordId: string): Promise<AlmaRecord | undefined> {
    this.calls.push(`get ${kind} ${userPrimaryId} ${recordId}`);
    const answer = this.answer(kind, recordId);
    if (answer instanceof Error) throw answer;
    return answer;
  }
}

const makeQuery = (answer: (kind: ItemKind, recordId?: string) => AlmaRecord | undefined | Error = () => undefined) => {
  const cache = new InMemoryCacheReader();
  const alma = new ScriptedAlma(answer);
  const refreshQueue = new InMemoryUserRefreshQueue();
  const deps: PatronQueryDeps = { cache, alma, refreshQueue, clock: new ManualClock('2026-11-21T10:00:00.000Z') };
  return { cache, alma, refreshQueue, deps };
};

/** Ids the identifier rule refuses, as they reach the use cases (API Gateway decodes a path once). */
const BAD_IDS = ['.', '..', '%2E%2E', '%2e', 'a/b', 'a\\b', 'a%2Fb', 'a%5Cb', '../..', 'PAT\u0007', 'x'.repeat(MAX_IDENTIFIER_LENGTH + 1)];

describe('Function: validQueryId (through the query use cases)', () => {
  it.each(BAD_IDS)('refuses the patron id %j on every query, reading nothing and asking Alma nothing', async (id) => {
    // Prepare
    const { cache, alma, refreshQueue, deps } = makeQuery();

    // Act
    const outcomes = await Promise.allSettled([
      new GetPatron(deps).execute(id),
      new ListPatronItems(deps).execute(id, 'fee'),
      new GetPatronItem(deps).execute({ userPrimaryId: id, kind: 'loan', itemId: '1' }),
      new QueuePatronRefresh(refreshQueue).execute(id),
    ]);

    // Assess
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(InvalidPatronQueryError);
      expect(((outcome as PromiseRejectedResult).reason as Error).message).toMatch(/^the patron id /);
    }
    expect([cache.calls, alma.calls, refreshQueue.messages]).toEqual([[], [], []]);
  });

  it.each(BAD_IDS)('refuses the record id %j, reading nothing and asking Alma nothing', async (id) => {
    // Prepare
    const { cache, alma, deps } = makeQuery();

    // Act
    const act = new GetPatronItem(deps).execute({ userPrimaryId: 'PAT0042X', kind: 'request', itemId: id });

    // Assess
    await expect(act).rejects.toThrow(/^the request id /);
    expect([cache.calls, alma.calls]).toEqual([[], []]);
  });
});

describe('Class: GetPatronItem (what Alma answers for one record)', () => {
  const query = { userPrimaryId: 'PAT0042X', kind: 'loan' as const, itemId: 'l1' };

  it.each([
    ["Alma's user-details record (no id, no owner)", { primary_id: 'PAT0042X', birth_date: '1990-01-01Z', contact_info: {} }],
    ['a list body (what a "." once fetched)', { item_loan: [{ loan_id: 'l1', user_id: 'PAT0042X' }], total_record_count: 1 }],
    ['the loan, naming no owner', { loan_id: 'l1', title: 'Book' }],
    ['the loan, naming another patron', { loan_id: 'l1', user_id: 'PAT0043Y' }],
    ['another loan of the patron', { loan_id: 'l2', user_id: 'PAT0042X' }],
    ['the loan id as a number that differs', { loan_id: 12, user_id: 'PAT0042X' }],
  ])('answers not found for %s, and queues nothing', async (_case, record) => {
    // Prepare
    const { refreshQueue, deps } = makeQuery(() => record);

    // Act
    const act = new GetPatronItem(deps).execute(query);

    // Assess
    await expect(act).rejects.toThrow(PatronItemNotFoundError);
    expect(refreshQueue.messages).toEqual([]);
  });

  it('serves the record that carries the id and names the patron, case-insensitively', async () => {
    // Prepare
    const record = { loan_id: 'l1', user_id: 'pat0042x', title: 'Book' };
    const { refreshQueue, deps } = makeQuery(() => record);

    // Act
    const answer = await new GetPatronItem(deps).execute(query);

    // Assess
    expect(answer).toMatchObject({ value: record, source: 'alma' });
    expect(refreshQueue.messages).toEqual(['PAT0042X']);
  });

  it.each([
    [400, PatronItemNotFoundError],
    [404, PatronItemNotFoundError],
    [401, AlmaRequestError],
    [403, AlmaRequestError],
  ])('turns an unexplained Alma %i for the record into %p', async (status, expected) => {
    // Prepare
    const { deps } = makeQuery(() => new AlmaRequestError(status, 'GENERAL_ERROR'));

    // Act
    const act = new GetPatronItem(deps).execute(query);

    // Assess
    await expect(act).rejects.toThrow(expected);
  });
});

describe('Function: isAlmaRecordOf', () => {
  it.each([
    ['a loan', 'loan', 'l1', { loan_id: 'l1', user_id: 'PAT0042X' }, true],
    ['a request', 'request', 'r1', { request_id: 'r1', user_primary_id: 'PAT0042X' }, true],
    ['a fee (owner nested, id plain)', 'fee', 'f1', { id: 'f1', user_primary_id: { value: 'PAT0042X' } }, true],
    ['a numeric id', 'loan', '17', { loan_id: 17, user_id: 'PAT0042X' }, true],
    ['a fee naming no owner', 'fee', 'f1', { id: 'f1' }, false],
    ['a fee whose owner is blank', 'fee', 'f1', { id: 'f1', user_primary_id: { value: ' ' } }, false],
    ['a request without its id', 'request', 'r1', { user_primary_id: 'PAT0042X' }, false],
  ] as const)('%s: %s', (_case, kind, itemId, fields, expected) => {
    // Assess
    expect(isAlmaRecordOf('pat0042x', kind, itemId, fields)).toBe(expected);
  });
});

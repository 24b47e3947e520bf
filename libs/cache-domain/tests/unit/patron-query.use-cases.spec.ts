import {
  AlmaBudgetExhaustedError,
  AlmaRequestError,
  AlmaUnavailableError,
  type AlmaUnavailableKind,
  GetPatron,
  GetPatronItem,
  InvalidPatronQueryError,
  ListPatronItems,
  PatronDataUnavailableError,
  PatronItemNotFoundError,
  PatronNotFoundError,
  type PatronQueryDeps,
  QueuePatronRefresh,
} from '../../src';
import { InMemoryAlmaApi, InMemoryCacheReader, InMemoryUserRefreshQueue, ManualClock } from '../../src/testing';

const NOW = '2026-11-21T10:00:00.000Z';
const NOW_SECONDS = Date.parse(NOW) / 1000;

const makeQuery = () => {
  const cache = new InMemoryCacheReader();
  const alma = new InMemoryAlmaApi();
  const refreshQueue = new InMemoryUserRefreshQueue();
  const clock = new ManualClock(NOW);
  const deps: PatronQueryDeps = { cache, alma, refreshQueue, clock };
  return { cache, alma, refreshQueue, clock, deps };
};

const loan = (id: string, owner = 'PAT0042X') => ({ loan_id: id, user_id: owner, title: `Book ${id}` });
const request = (id: string, owner = 'PAT0042X') => ({ request_id: id, user_primary_id: owner });
const fee = (id: string, owner = 'PAT0042X') => ({ id, user_primary_id: { value: owner, link: '…' }, balance: 2.5 });

describe('Class: GetPatron', () => {
  it('answers a cached patron from the cache, lists ordered by id, without asking Alma or queueing', async () => {
    // Prepare
    const { cache, alma, refreshQueue, deps } = makeQuery();
    cache.seedPatron('pat0042x', { loan: ['l2', 'l1'], request: ['r1'], fee: ['f1'] });
    cache.seedItem('loan', 'l1', loan('l1'));
    cache.seedItem('loan', 'l2', loan('l2'));
    cache.seedItem('request', 'r1', request('r1'));
    cache.seedItem('fee', 'f1', fee('f1'));

    // Act
    const answer = await new GetPatron(deps).execute('PAT0042X');

    // Assess
    expect(answer).toEqual({
      source: 'cache',
      value: { primaryId: 'PAT0042X', records: { loan: [loan('l1'), loan('l2')], request: [request('r1')], fee: [fee('f1')] } },
    });
    expect(alma.calls).toEqual([]);
    expect(refreshQueue.messages).toEqual([]);
    expect(cache.calls).toEqual(['readUser pat0042x', 'readItems loan l2,l1', 'readItems request r1', 'readItems fee f1']);
  });

  it('leaves out tombstones and records naming another patron, case-insensitively', async () => {
    // Prepare
    const { cache, deps } = makeQuery();
    cache.seedPatron('pat0042x', { loan: ['l1', 'l2', 'l3'], fee: ['f1', 'f2'] });
    cache.seedItem('loan', 'l1', loan('l1', 'pat0042X'));
    cache.seedItem('loan', 'l2', { loan_id: 'l2', user_id: 'PAT0042X' }, { tombstone: true });
    cache.seedItem('loan', 'l3', loan('l3', 'SOMEONE-ELSE'));
    cache.seedItem('fee', 'f1', fee('f1'));
    cache.seedItem('fee', 'f2', fee('f2', 'SOMEONE-ELSE'));

    // Act
    const answer = await new GetPatron(deps).execute('PAT0042X');

    // Assess
    expect(answer.source).toBe('cache');
    expect(answer.value.records).toEqual({ loan: [loan('l1', 'pat0042X')], request: [], fee: [fee('f1')] });
  });

  it.each([
    ['not cached', (cache: InMemoryCacheReader) => void cache],
    ['a placeholder whose first refresh is running', (cache: InMemoryCacheReader) => void cache.seedPatron('pat0042x', {}, { refreshedAt: null })],
    ['expired, TTL not yet run', (cache: InMemoryCacheReader) => void cache.seedPatron('pat0042x', {}, { expiresAt: NOW_SECONDS })],
    [
      'missing a record its set names',
      (cache: InMemoryCacheReader) => {
        cache.seedPatron('pat0042x', { loan: ['l1', 'gone'] });
        cache.seedItem('loan', 'l1', loan('l1'));
      },
    ],
    [
      'holding an expired record its set names',
      (cache: InMemoryCacheReader) => {
        cache.seedPatron('pat0042x', { loan: ['l1'] });
        cache.seedItem('loan', 'l1', loan('l1'), { expiresAt: NOW_SECONDS - 1 });
      },
    ],
  ])('asks Alma and queues exactly one refresh when the patron is %s', async (_case, prepareCache) => {
    // Prepare
    const { cache, alma, refreshQueue, deps } = makeQuery();
    prepareCache(cache);
    alma.seed('PAT0042X', { loan: [loan('l9'), loan('l1')], fee: [fee('f1')] });

    // Act
    const answer = await new GetPatron(deps).execute('PAT0042X');

    // Assess
    expect(answer).toEqual({
      source: 'alma',
      refresh: { queued: true },
      value: { primaryId: 'PAT0042X', records: { loan: [loan('l1'), loan('l9')], request: [], fee: [fee('f1')] } },
    });
    expect(alma.calls.sort()).toEqual(['list fee PAT0042X', 'list loan PAT0042X', 'list request PAT0042X']);
    expect(refreshQueue.messages).toEqual(['PAT0042X']);
  });

  it('says the patron is not found when neither the cache nor Alma knows them, and queues nothing', async () => {
    // Prepare
    const { refreshQueue, deps } = makeQuery();

    // Act
    const act = new GetPatron(deps).execute('NOBODY');

    // Assess
    await expect(act).rejects.toThrow(PatronNotFoundError);
    expect(refreshQueue.messages).toEqual([]);
  });

  it('answers from Alma even when the refresh cannot be queued, and reports the failure', async () => {
    // Prepare
    const { alma, refreshQueue, deps } = makeQuery();
    alma.seed('PAT0042X', { request: [request('r1')] });
    const failure = new Error('SQS down');
    refreshQueue.failNext(failure);

    // Act
    const answer = await new GetPatron(deps).execute('PAT0042X');

    // Assess
    expect(answer.value.records.request).toEqual([request('r1')]);
    expect(answer.refresh).toEqual({ queued: false, error: failure });
  });

  it.each<[string, number | undefined, AlmaUnavailableKind, number]>([
    ['HTTP 429 throttled: PER_SECOND_THRESHOLD …', undefined, 'throttled', 2],
    ['GET …/loans failed 2 time(s); last: HTTP 429 throttled: …; Alma asked to wait 12 s', 12, 'throttled', 12],
    ["Alma's daily API request threshold is reached (DAILY_THRESHOLD …)", undefined, 'daily-limit', 3600],
    ['GET …/loans failed 2 time(s); last: HTTP 503: GENERAL_ERROR', undefined, 'unavailable', 30],
    ['GET …/loans failed 2 time(s); last: no reply within 4000 ms', 0.2, 'unavailable', 1],
  ])('turns Alma unavailable (%s, Retry-After %s) into %s with a Retry-After of %s s', async (reason, hint, unavailability, retryAfter) => {
    // Prepare
    const { alma, refreshQueue, deps } = makeQuery();
    alma.seed('PAT0042X');
    alma.failNext(new AlmaUnavailableError(reason, hint, unavailability));

    // Act
    const act = new GetPatron(deps).execute('PAT0042X');

    // Assess
    await expect(act).rejects.toThrow(PatronDataUnavailableError);
    await act.catch((error: PatronDataUnavailableError) => {
      expect({ unavailability: error.unavailability, retryAfter: error.retryAfterSeconds }).toEqual({ unavailability, retryAfter });
      expect(error.cause).toBeInstanceOf(AlmaUnavailableError);
    });
    expect(refreshQueue.messages).toEqual([]);
  });

  it('lets an Alma refusal through as it is: a fault of this service, not of the caller', async () => {
    // Prepare
    const { alma, deps } = makeQuery();
    alma.seed('PAT0042X');
    alma.failNext(new AlmaRequestError(401, 'bad key'));

    // Act
    const act = new GetPatron(deps).execute('PAT0042X');

    // Assess
    await expect(act).rejects.toThrow(AlmaRequestError);
  });

  it.each([[''], ['  '], ['x'.repeat(256)], ['PAT\n0042']])('refuses the id %j before reading anything', async (id) => {
    // Prepare
    const { cache, deps } = makeQuery();

    // Act
    const act = new GetPatron(deps).execute(id);

    // Assess
    await expect(act).rejects.toThrow(InvalidPatronQueryError);
    expect(cache.calls).toEqual([]);
  });
});

describe('Class: ListPatronItems', () => {
  it('reads only the kind asked for from the cache', async () => {
    // Prepare
    const { cache, deps } = makeQuery();
    cache.seedPatron('pat0042x', { loan: ['l1'], fee: ['f2', 'f1'] });
    cache.seedItem('fee', 'f1', fee('f1'));
    cache.seedItem('fee', 'f2', fee('f2'));

    // Act
    const answer = await new ListPatronItems(deps).execute('PAT0042X', 'fee');

    // Assess
    expect(answer).toEqual({ source: 'cache', value: { primaryId: 'PAT0042X', kind: 'fee', records: [fee('f1'), fee('f2')] } });
    expect(cache.calls).toEqual(['readUser pat0042x', 'readItems fee f2,f1']);
  });

  it('asks Alma for that kind only on a miss, and queues the patron', async () => {
    // Prepare
    const { alma, refreshQueue, deps } = makeQuery();
    alma.seed('pat0042x', { loan: [loan('l1')], request: [request('r1')] });

    // Act
    const answer = await new ListPatronItems(deps).execute('PAT0042X', 'request');

    // Assess
    expect(answer.value.records).toEqual([request('r1')]);
    expect(alma.calls).toEqual(['list request PAT0042X']);
    expect(refreshQueue.messages).toEqual(['PAT0042X']);
  });

  it('drops a record Alma lists under the patron that names someone else', async () => {
    // Prepare
    const { alma, deps } = makeQuery();
    alma.seed('PAT0042X', { loan: [loan('l1'), loan('l2', 'OTHER')] });

    // Act
    const answer = await new ListPatronItems(deps).execute('PAT0042X', 'loan');

    // Assess
    expect(answer.value.records).toEqual([loan('l1')]);
  });
});

describe('Class: GetPatronItem', () => {
  const query = (itemId: string, kind: 'loan' | 'request' | 'fee' = 'loan') => ({ userPrimaryId: 'PAT0042X', kind, itemId });

  it("serves a cached record that is in the patron's set", async () => {
    // Prepare
    const { cache, alma, deps } = makeQuery();
    cache.seedPatron('pat0042x', { fee: ['f1'] });
    cache.seedItem('fee', 'f1', fee('f1'));

    // Act
    const answer = await new GetPatronItem(deps).execute(query('f1', 'fee'));

    // Assess
    expect(answer).toEqual({ source: 'cache', value: fee('f1') });
    expect(alma.calls).toEqual([]);
  });

  it("does not serve another patron's record, even though the cache holds it, nor ask Alma", async () => {
    // Prepare
    const { cache, alma, deps } = makeQuery();
    cache.seedPatron('pat0042x', { loan: ['mine'] });
    cache.seedPatron('other', { loan: ['theirs'] });
    cache.seedItem('loan', 'theirs', loan('theirs', 'OTHER'));

    // Act
    const act = new GetPatronItem(deps).execute(query('theirs'));

    // Assess
    await expect(act).rejects.toThrow(PatronItemNotFoundError);
    expect(alma.calls).toEqual([]);
  });

  it.each([
    ['a tombstone', { tombstone: true }, loan('l1')],
    ['a record naming another patron', {}, loan('l1', 'OTHER')],
  ])('answers not found for %s in the set', async (_case, options, fields) => {
    // Prepare
    const { cache, alma, deps } = makeQuery();
    cache.seedPatron('pat0042x', { loan: ['l1'] });
    cache.seedItem('loan', 'l1', fields, options);

    // Act
    const act = new GetPatronItem(deps).execute(query('l1'));

    // Assess
    await expect(act).rejects.toThrow(PatronItemNotFoundError);
    expect(alma.calls).toEqual([]);
  });

  it('asks Alma for the one record when the patron is not cached, and queues the patron', async () => {
    // Prepare
    const { alma, refreshQueue, deps } = makeQuery();
    alma.seed('PAT0042X', { loan: [loan('l1')] });

    // Act
    const answer = await new GetPatronItem(deps).execute(query('l1'));

    // Assess
    expect(answer).toEqual({ source: 'alma', value: loan('l1'), refresh: { queued: true } });
    expect(alma.calls).toEqual(['get loan PAT0042X l1']);
    expect(refreshQueue.messages).toEqual(['PAT0042X']);
  });

  it('asks Alma when the set names the record but the cache lost it', async () => {
    // Prepare
    const { cache, alma, refreshQueue, deps } = makeQuery();
    cache.seedPatron('pat0042x', { request: ['r1'] });
    alma.seed('PAT0042X', { request: [request('r1')] });

    // Act
    const answer = await new GetPatronItem(deps).execute(query('r1', 'request'));

    // Assess
    expect(answer.source).toBe('alma');
    expect(refreshQueue.messages).toEqual(['PAT0042X']);
  });

  it.each([
    ['Alma has no such record', true, PatronItemNotFoundError],
    ['Alma has no such patron', false, PatronNotFoundError],
  ])('answers not found when %s, queueing nothing', async (_case, almaKnowsPatron, expected) => {
    // Prepare
    const { alma, refreshQueue, deps } = makeQuery();
    if (almaKnowsPatron) alma.seed('PAT0042X', { loan: [loan('l1')] });

    // Act
    const act = new GetPatronItem(deps).execute(query('l2'));

    // Assess
    await expect(act).rejects.toThrow(expected);
    expect(refreshQueue.messages).toEqual([]);
  });

  it('answers not found for a record Alma returns that names another patron', async () => {
    // Prepare
    const { alma, deps } = makeQuery();
    alma.seed('PAT0042X', { loan: [loan('l1', 'OTHER')] });

    // Act
    const act = new GetPatronItem(deps).execute(query('l1'));

    // Assess
    await expect(act).rejects.toThrow(PatronItemNotFoundError);
  });

  it('refuses an item id that cannot be one', async () => {
    // Prepare
    const { deps } = makeQuery();

    // Act
    const act = new GetPatronItem(deps).execute(query(''));

    // Assess
    await expect(act).rejects.toThrow('the loan id is empty');
  });
});

describe('Class: QueuePatronRefresh', () => {
  it('queues the id as given, without asking Alma', async () => {
    // Prepare
    const { refreshQueue } = makeQuery();

    // Act
    const result = await new QueuePatronRefresh(refreshQueue).execute('PAT0042X');

    // Assess
    expect(result).toEqual({ primaryId: 'PAT0042X' });
    expect(refreshQueue.messages).toEqual(['PAT0042X']);
  });

  it('fails when the queue does: the caller must know the refresh was not queued', async () => {
    // Prepare
    const { refreshQueue } = makeQuery();
    refreshQueue.failNext(new Error('SQS down'));

    // Act
    const act = new QueuePatronRefresh(refreshQueue).execute('PAT0042X');

    // Assess
    await expect(act).rejects.toThrow('SQS down');
  });
});

describe('Class: AlmaUnavailableError', () => {
  it('is of the kind its maker says, whatever words its reason holds: an outage unless told otherwise', () => {
    // Act
    const misleading = new AlmaUnavailableError('HTTP 429 throttled: DAILY_THRESHOLD');
    const budget = new AlmaBudgetExhaustedError(10, 20_000);

    // Assess
    expect(misleading.kind).toBe('unavailable');
    expect(budget.kind).toBe('throttled');
  });

  it("answers a query with the error's kind, not one read from its reason", async () => {
    // Prepare
    const { alma, deps } = makeQuery();
    alma.seed('PAT0042X');
    alma.failNext(new AlmaUnavailableError('HTTP 503 (the body mentioned DAILY_THRESHOLD)', undefined, 'unavailable'));

    // Act
    const error = await new GetPatron(deps).execute('PAT0042X').catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(PatronDataUnavailableError);
    expect(error).toMatchObject({ unavailability: 'unavailable', retryAfterSeconds: 30 });
  });
});

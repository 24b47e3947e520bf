import {
  DEFAULT_EXPIRY_POLICY,
  GetPatron,
  GetPatronItem,
  ListPatronItems,
  PatronDataUnavailableError,
  PatronItemNotFoundError,
  PatronNotFoundError,
  type PatronQueryDeps,
  RefreshUser,
  AlmaUnavailableError,
} from '../../src';
import { InMemoryAlmaApi, InMemoryCacheStore, InMemoryUnknownPatrons, InMemoryUserRefreshQueue, ManualClock } from '../../src/testing';

const NOW = '2026-11-21T10:00:00.000Z';
const NOW_SECONDS = Date.parse(NOW) / 1000;

/** The query wired as the query API wires it: one store both rebuilt by RefreshUser and read back. */
const makeMissQuery = () => {
  const store = new InMemoryCacheStore();
  const alma = new InMemoryAlmaApi();
  const refreshQueue = new InMemoryUserRefreshQueue();
  const clock = new ManualClock(NOW);
  const unknownPatrons = new InMemoryUnknownPatrons();
  const expiry = DEFAULT_EXPIRY_POLICY;
  const refreshUser = new RefreshUser({ store, alma, clock, expiry, unknownPatrons });
  let claimants = 0;
  const sleeps: number[] = [];
  const deps: PatronQueryDeps = {
    cache: store.reader(),
    alma,
    refreshQueue,
    clock,
    miss: {
      store,
      unknownPatrons,
      refreshUser,
      expiry,
      newClaimant: () => `query-${++claimants}`,
      sleep: async (ms) => {
        sleeps.push(ms);
        await new Promise((resolve) => setTimeout(resolve, 1));
      },
      waitForRefreshMs: 1000,
      pollIntervalMs: 100,
    },
  };
  return { store, alma, refreshQueue, clock, unknownPatrons, deps, sleeps };
};

const loan = (id: string, owner = 'PAT0042X') => ({ loan_id: id, user_id: owner, title: `Book ${id}` });

describe('Function: answerMiss', () => {
  it('rebuilds an uncached patron once for 30 sequential reads: 3 Alma calls, no refresh message', async () => {
    // Prepare
    const { alma, refreshQueue, deps } = makeMissQuery();
    alma.seed('PAT0042X', { loan: [loan('l1')], request: [], fee: [] });
    const query = new GetPatron(deps);

    // Act
    const answers = [];
    for (let i = 0; i < 30; i += 1) answers.push(await query.execute('PAT0042X'));

    // Assess
    expect(answers[0]).toMatchObject({ source: 'alma', value: { records: { loan: [loan('l1')], request: [], fee: [] } } });
    expect(answers.slice(1).every((answer) => answer.source === 'cache')).toBe(true);
    expect(alma.calls).toHaveLength(3);
    expect(refreshQueue.messages).toEqual([]);
  });

  it('rebuilds once for 30 concurrent reads: the others wait for the claimant and answer from the cache', async () => {
    // Prepare
    const { alma, refreshQueue, deps } = makeMissQuery();
    alma.seed('PAT0042X', { loan: [loan('l1'), loan('l2')] });
    const query = new ListPatronItems(deps);

    // Act
    const answers = await Promise.all(Array.from({ length: 30 }, () => query.execute('PAT0042X', 'loan')));

    // Assess
    expect(answers.filter((answer) => answer.source === 'alma')).toHaveLength(1);
    expect(answers.every((answer) => answer.value.records.length === 2)).toBe(true);
    expect(alma.calls).toHaveLength(3);
    expect(refreshQueue.messages).toEqual([]);
  });

  it('remembers an id Alma does not know: 40 reads cost one Alma call, all 404', async () => {
    // Prepare
    const { alma, unknownPatrons, deps } = makeMissQuery();
    const query = new GetPatron(deps);

    // Act
    const outcomes = [];
    for (let i = 0; i < 40; i += 1) outcomes.push(await query.execute('NOBODY').catch((error: unknown) => error));

    // Assess
    expect(outcomes.every((outcome) => outcome instanceof PatronNotFoundError)).toBe(true);
    expect(alma.calls).toEqual(['list loan NOBODY']);
    expect(unknownPatrons.until.get('nobody')).toBe(NOW_SECONDS + DEFAULT_EXPIRY_POLICY.unknownPatronSeconds);
  });

  it('asks Alma again once the negative cache has expired', async () => {
    // Prepare
    const { alma, clock, deps } = makeMissQuery();
    const query = new GetPatron(deps);
    await expect(query.execute('NOBODY')).rejects.toBeInstanceOf(PatronNotFoundError);

    // Act
    clock.advanceSeconds(DEFAULT_EXPIRY_POLICY.unknownPatronSeconds);
    alma.seed('NOBODY', { loan: [loan('l9', 'NOBODY')] });
    const answer = await query.execute('NOBODY');

    // Assess
    expect(answer.value.records.loan).toEqual([loan('l9', 'NOBODY')]);
    expect(alma.calls).toHaveLength(4);
  });

  it('does not fetch a patron whose first refresh is still running (a young placeholder): 503 refreshing', async () => {
    // Prepare
    const { store, alma, deps, sleeps } = makeMissQuery();
    alma.seed('PAT0042X', { loan: [loan('l1')] });
    await store.beginUserRefresh('pat0042x', NOW_SECONDS - 30 + DEFAULT_EXPIRY_POLICY.userSeconds);

    // Act
    const outcome = await new GetPatron(deps).execute('PAT0042X').catch((error: unknown) => error);

    // Assess
    expect(outcome).toBeInstanceOf(PatronDataUnavailableError);
    expect(outcome).toMatchObject({ unavailability: 'refreshing', retryAfterSeconds: 2 });
    expect(alma.calls).toEqual([]);
    expect(sleeps).toEqual(Array.from({ length: 9 }, () => 100));
    expect(store.calls).not.toContain('claimUserRefresh');
  });

  it('rebuilds a placeholder older than the refresh window: that refresh died', async () => {
    // Prepare
    const { store, alma, deps } = makeMissQuery();
    alma.seed('PAT0042X', { loan: [loan('l1')] });
    await store.beginUserRefresh('pat0042x', NOW_SECONDS - 600 + DEFAULT_EXPIRY_POLICY.userSeconds);

    // Act
    const answer = await new GetPatron(deps).execute('PAT0042X');

    // Assess
    expect(answer.source).toBe('alma');
    expect(alma.calls).toHaveLength(3);
  });

  it('coalesces with a webhook that holds the claim: no Alma call, 503 until its refresh lands', async () => {
    // Prepare
    const { store, alma, deps } = makeMissQuery();
    alma.seed('PAT0042X', { loan: [loan('l1')] });
    await store.claimUserRefresh({ userKey: 'pat0042x', claimant: 'webhook-event-1', nowSeconds: NOW_SECONDS, untilSeconds: NOW_SECONDS + 300 });

    // Act
    const outcome = await new GetPatron(deps).execute('PAT0042X').catch((error: unknown) => error);

    // Assess
    expect(outcome).toMatchObject({ name: 'PatronDataUnavailableError', unavailability: 'refreshing' });
    expect(alma.calls).toEqual([]);
  });

  it('hands the patron to the Users queue when Alma fails the rebuild, and keeps the claim for the window', async () => {
    // Prepare
    const { store, alma, refreshQueue, deps } = makeMissQuery();
    alma.seed('PAT0042X', { loan: [loan('l1')] });
    alma.failNext(new AlmaUnavailableError('HTTP 503: down', 30));
    const query = new GetPatron(deps);

    // Act
    const first = await query.execute('PAT0042X').catch((error: unknown) => error);
    const second = await query.execute('PAT0042X').catch((error: unknown) => error);

    // Assess
    expect(first).toMatchObject({ unavailability: 'unavailable', retryAfterSeconds: 30 });
    expect(second).toMatchObject({ unavailability: 'refreshing' });
    expect(alma.calls).toEqual(['list loan PAT0042X']);
    expect(refreshQueue.messages).toEqual(['PAT0042X']);
    expect(store.claims.get('pat0042x')).toMatchObject({ claimant: 'query-1', sent: true });
  });

  it('serves one record after rebuilding the patron, and 404s a record the rebuilt patron does not have', async () => {
    // Prepare
    const { alma, deps } = makeMissQuery();
    alma.seed('PAT0042X', { loan: [loan('l1')] });
    const query = new GetPatronItem(deps);

    // Act
    const found = await query.execute({ userPrimaryId: 'PAT0042X', kind: 'loan', itemId: 'l1' });
    const missing = await query.execute({ userPrimaryId: 'PAT0042X', kind: 'loan', itemId: 'l2' }).catch((error: unknown) => error);

    // Assess
    expect(found).toEqual({ source: 'alma', value: loan('l1') });
    expect(missing).toBeInstanceOf(PatronItemNotFoundError);
    expect(alma.calls).toHaveLength(3);
  });
});

import { BackfillPatron, type BackfillPatronDeps, DEFAULT_EXPIRY_POLICY, RecordLoan } from '../../src';
import { MalformedRefreshMessageError } from '../../src/lib/errors';
import { almaWebhookMessage, InMemoryCacheStore, InMemoryUserRefreshQueue, ManualClock } from '../../src/testing';

const makeBackfill = (run = 'semester') => {
  const store = new InMemoryCacheStore();
  const refreshQueue = new InMemoryUserRefreshQueue();
  const clock = new ManualClock('2026-12-10T17:00:00.000Z');
  // The full store, so the same deps also drive the webhook use cases the backfill must coalesce with.
  const deps = { store, refreshQueue, clock, expiry: DEFAULT_EXPIRY_POLICY } satisfies BackfillPatronDeps;
  return { store, refreshQueue, clock, deps, backfill: new BackfillPatron(deps, run) };
};

const completeUser = (store: InMemoryCacheStore, userKey: string) => {
  const empty = () => ({ loan: new Set<string>(), request: new Set<string>(), fee: new Set<string>() });
  store.users.set(userKey, { ids: empty(), removedIds: empty(), version: 1, refreshedAt: '2026-12-10T16:00:00.000Z', expiresAt: 0 });
};

describe('Class: BackfillPatron', () => {
  it('queues a patron the cache does not have, once, and marks its claim sent', async () => {
    // Prepare
    const { backfill, refreshQueue, store } = makeBackfill();

    // Act
    const first = await backfill.execute('PAT0042X');
    const again = await backfill.execute('PAT0042X');

    // Assess: the second ask within the window finds the run's own claim marked sent.
    expect([first, again]).toEqual(['queued', 'already-requested']);
    expect(refreshQueue.messages).toEqual(['PAT0042X']);
    expect(store.claims.get('pat0042x')).toMatchObject({ claimant: 'backfill:semester', sent: true });
  });

  it('skips a patron already complete in the cache without claiming', async () => {
    // Prepare
    const { backfill, refreshQueue, store } = makeBackfill();
    completeUser(store, 'pat0042x');

    // Act
    const outcome = await backfill.execute('PAT0042X');

    // Assess
    expect(outcome).toBe('cached');
    expect(refreshQueue.messages).toEqual([]);
    expect(store.claims.has('pat0042x')).toBe(false);
  });

  it('asks for a patron whose row is only a placeholder (a refresh began and did not finish)', async () => {
    // Prepare
    const { backfill, refreshQueue, store } = makeBackfill();
    await store.beginUserRefresh('pat0042x', 2_000_000_000);

    // Act
    const outcome = await backfill.execute('PAT0042X');

    // Assess
    expect(outcome).toBe('queued');
    expect(refreshQueue.messages).toEqual(['PAT0042X']);
  });

  it('sends nothing for a patron a webhook already queued in this window', async () => {
    // Prepare: a loan webhook for an unknown patron takes the claim and queues the refresh.
    const { backfill, refreshQueue, deps } = makeBackfill();
    await new RecordLoan(deps).execute(almaWebhookMessage('LOAN_CREATED'));
    const queuedByWebhook = [...refreshQueue.messages];

    // Act
    const outcome = await backfill.execute(queuedByWebhook[0]);

    // Assess
    expect(queuedByWebhook).toHaveLength(1);
    expect(outcome).toBe('already-requested');
    expect(refreshQueue.messages).toEqual(queuedByWebhook);
  });

  it('sends again when resumed after a send that failed, since the claim was never marked', async () => {
    // Prepare
    const { backfill, refreshQueue, store } = makeBackfill();
    refreshQueue.failNext(new Error('SQS unavailable'));
    await expect(backfill.execute('PAT0042X')).rejects.toThrow('SQS unavailable');

    // Act: the same run, resumed
    const outcome = await new BackfillPatron(
      { store, refreshQueue, clock: new ManualClock('2026-12-10T17:00:30.000Z'), expiry: DEFAULT_EXPIRY_POLICY },
      'semester',
    ).execute('PAT0042X');

    // Assess
    expect(outcome).toBe('queued');
    expect(refreshQueue.messages).toEqual(['PAT0042X']);
  });

  it('leaves a patron to another run that claimed them in this window, and asks again once the window is over', async () => {
    // Prepare
    const { backfill, refreshQueue, store, clock, deps } = makeBackfill('first');
    await backfill.execute('PAT0042X');
    const other = new BackfillPatron(deps, 'second');

    // Act
    const inWindow = await other.execute('PAT0042X');
    clock.advanceSeconds(DEFAULT_EXPIRY_POLICY.refreshWindowSeconds);
    const afterWindow = await other.execute('PAT0042X');

    // Assess: the first refresh never completed (no refreshedAt), so after the window the patron is asked for again.
    expect([inWindow, afterWindow]).toEqual(['already-requested', 'queued']);
    expect(refreshQueue.messages).toEqual(['PAT0042X', 'PAT0042X']);
    expect(store.claims.get('pat0042x')?.claimant).toBe('backfill:second');
  });

  it('refuses an id that fails the identifier rule before reading or sending anything', async () => {
    // Prepare
    const { backfill, refreshQueue, store } = makeBackfill();

    // Act
    const attempt = backfill.execute('../PAT0042X');

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(MalformedRefreshMessageError);
    await expect(attempt).rejects.toThrow('a backfilled patron id holds a path separator');
    expect(refreshQueue.messages).toEqual([]);
    expect(store.claims.size).toBe(0);
  });
});

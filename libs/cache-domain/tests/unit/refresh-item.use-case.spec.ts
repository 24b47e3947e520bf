import { DEFAULT_EXPIRY_POLICY, InvalidEventError, RecordLoan, RefreshItem, type RefreshDeps } from '../../src';
import { InMemoryAlmaApi, InMemoryCacheStore, InMemoryUserRefreshQueue, ManualClock, almaWebhookMessage } from '../../src/testing';

const makeRefresh = () => {
  const store = new InMemoryCacheStore();
  const alma = new InMemoryAlmaApi();
  const clock = new ManualClock('2026-11-21T10:00:00.000Z');
  const deps: RefreshDeps = { store, alma, clock, expiry: DEFAULT_EXPIRY_POLICY };
  return { store, alma, clock, deps, refresh: new RefreshItem(deps) };
};

describe('Class: RefreshItem', () => {
  it("does not tombstone another patron's record: a message naming patron B and patron A's loan id", async () => {
    // Prepare: A's live loan, cached from a webhook; B is a patron too, and Alma (rightly) says B has no such loan.
    const { store, alma, refresh, deps, clock } = makeRefresh();
    store.seedUser('pat0042x');
    store.seedUser('patb');
    const webhookDeps = { ...deps, refreshQueue: new InMemoryUserRefreshQueue() };
    clock.advanceSeconds(60);
    await new RecordLoan(webhookDeps).execute(almaWebhookMessage('LOAN_CREATED', { itemId: 'loan-of-a', time: '2026-11-21T10:00:30.000Z' }));
    clock.advanceSeconds(3600);
    alma.seed('PATB');

    // Act
    const outcome = await refresh.execute({ userPrimaryId: 'PATB', kind: 'loan', itemId: 'loan-of-a' });

    // Assess: A's loan is live and still A's; B's id sets are untouched.
    expect(outcome).toMatchObject({ found: false, item: 'stale', user: 'untouched' });
    expect(store.items.loan.get('loan-of-a')).toMatchObject({ tombstone: false, eventType: 'LOAN_CREATED', fields: { user_id: 'PAT0042X' } });
    expect([...store.users.get('pat0042x')!.ids.loan]).toEqual(['loan-of-a']);
    expect(store.users.get('patb')!.removedIds.loan.size).toBe(0);
  });

  it("tombstones the patron's own record whatever the case of the id the message names", async () => {
    // Prepare
    const { store, alma, refresh, deps, clock } = makeRefresh();
    store.seedUser('pat0042x');
    const webhookDeps = { ...deps, refreshQueue: new InMemoryUserRefreshQueue() };
    clock.advanceSeconds(60);
    await new RecordLoan(webhookDeps).execute(almaWebhookMessage('LOAN_CREATED', { itemId: 'l9', time: '2026-11-21T10:00:30.000Z' }));
    clock.advanceSeconds(3600);
    alma.seed('pat0042x');

    // Act
    const outcome = await refresh.execute({ userPrimaryId: 'pat0042x', kind: 'loan', itemId: 'l9' });

    // Assess
    expect(outcome).toMatchObject({ found: false, item: 'written', user: 'unlinked' });
    expect(store.items.loan.get('l9')!.tombstone).toBe(true);
  });

  it.each([
    ['a tombstone field', { loan_id: 'l1', tombstone: true }, /"loan.tombstone" is named like one of the cache's own attributes/],
    ['an alma_event_time field', { loan_id: 'l1', alma_event_time: '2099-01-01T00:00:00.000Z' }, /"loan.alma_event_time" is named like/],
    ['an integer beyond 2^53', { loan_id: 'l1', fine: 2 ** 60 }, /"loan.fine" is an integer beyond 2\^53/],
    ['an empty field name', { loan_id: 'l1', '': 'x' }, /"loan" holds an empty attribute name/],
  ])('refuses a record from Alma with %s, writing nothing', async (_case, record, reason) => {
    // Prepare
    const { store, alma, refresh } = makeRefresh();
    store.seedUser('pat0042x');
    alma.seed('PAT0042X', { loan: [record] });

    // Act
    const act = refresh.execute({ userPrimaryId: 'PAT0042X', kind: 'loan', itemId: 'l1' });

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'MalformedAlmaRecordError', reason: expect.stringMatching(reason) });
    await expect(act).rejects.toBeInstanceOf(InvalidEventError);
    expect(store.calls).toEqual([]);
  });

  it('writes the record Alma returns and links it to the cached patron', async () => {
    // Prepare
    const { store, alma, refresh } = makeRefresh();
    store.seedUser('pat0042x');
    alma.seed('PAT0042X', { fee: [{ id: 'f1', balance: 3 }] });

    // Act
    const outcome = await refresh.execute({ userPrimaryId: 'PAT0042X', kind: 'fee', itemId: 'f1' });

    // Assess
    expect(outcome).toMatchObject({ found: true, item: 'written', user: 'linked' });
    expect(store.items.fee.get('f1')!.fields).toEqual({ id: 'f1', balance: 3 });
    expect([...store.users.get('pat0042x')!.ids.fee]).toEqual(['f1']);
    expect(alma.calls).toEqual(['get fee PAT0042X f1']);
  });

  it('tombstones and unlinks a record Alma no longer has', async () => {
    // Prepare
    const { store, alma, refresh } = makeRefresh();
    store.seedUser('pat0042x', { request_ids: ['r1'] });
    alma.seed('PAT0042X');

    // Act
    const outcome = await refresh.execute({ userPrimaryId: 'PAT0042X', kind: 'request', itemId: 'r1' });

    // Assess
    expect(outcome).toMatchObject({ found: false, item: 'written', user: 'unlinked' });
    expect(store.items.request.get('r1')).toMatchObject({ tombstone: true, fields: { user_primary_id: 'PAT0042X' } });
    expect(store.users.get('pat0042x')!.ids.request.size).toBe(0);
  });

  it('leaves a newer webhook version alone', async () => {
    // Prepare
    const { store, alma, refresh, deps } = makeRefresh();
    store.seedUser('pat0042x');
    const webhookDeps = { ...deps, refreshQueue: new InMemoryUserRefreshQueue() };
    await new RecordLoan(webhookDeps).execute(almaWebhookMessage('LOAN_RENEWED', { itemId: 'l1', time: '2026-11-21T09:59:59.000Z' }));
    alma.seed('PAT0042X', { loan: [{ loan_id: 'l1', due_date: 'older' }] });

    // Act
    const outcome = await refresh.execute({ userPrimaryId: 'PAT0042X', kind: 'loan', itemId: 'l1' });

    // Assess
    expect(outcome).toMatchObject({ found: true, item: 'stale', user: 'untouched' });
    expect(store.items.loan.get('l1')!.eventType).toBe('LOAN_RENEWED');
  });

  it('writes the record but does not invent a patron that is not cached', async () => {
    // Prepare
    const { store, alma, refresh } = makeRefresh();
    alma.seed('PAT0042X', { loan: [{ loan_id: 'l1' }] });

    // Act
    const outcome = await refresh.execute({ userPrimaryId: 'PAT0042X', kind: 'loan', itemId: 'l1' });

    // Assess
    expect(outcome).toMatchObject({ found: true, item: 'written', user: 'user-not-cached' });
    expect(store.users.size).toBe(0);
  });

  it('treats a patron Alma does not know as a record that is gone', async () => {
    // Prepare
    const { store, refresh } = makeRefresh();
    store.seedUser('pat0042x', { loan_ids: ['l1'] });

    // Act
    const outcome = await refresh.execute({ userPrimaryId: 'PAT0042X', kind: 'loan', itemId: 'l1' });

    // Assess
    expect(outcome).toMatchObject({ found: false, user: 'unlinked' });
  });
});

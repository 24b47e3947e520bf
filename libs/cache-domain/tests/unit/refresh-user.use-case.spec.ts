import {
  AlmaInvalidIdentifierError,
  AlmaUnavailableError,
  DEFAULT_EXPIRY_POLICY,
  RecordLoan,
  RefreshUser,
  RemoveLoan,
  type RefreshDeps,
} from '../../src';
import { REFRESH_EVENT_TYPE } from '../../src/lib/refresh/refresh-support';
import { InMemoryAlmaApi, InMemoryCacheStore, almaWebhookMessage, ManualClock, InMemoryUserRefreshQueue } from '../../src/testing';

const START = '2026-11-21T10:00:00.000Z';
/** The snapshot is dated one clock-skew margin before the refresh started. */
const SNAPSHOT_TIME = '2026-11-21T09:59:00.000Z';

const loan = (id: string, extra: Record<string, unknown> = {}) => ({ loan_id: id, user_id: 'PAT0042X', loan_status: 'ACTIVE', ...extra });
const request = (id: string) => ({ request_id: id, user_primary_id: 'PAT0042X', request_status: 'NOT_STARTED' });
const fee = (id: string) => ({ id, user_primary_id: { value: 'PAT0042X' }, status: { value: 'ACTIVE' }, balance: 2.5 });

const makeRefresh = () => {
  const store = new InMemoryCacheStore();
  const alma = new InMemoryAlmaApi();
  const clock = new ManualClock(START);
  const deps: RefreshDeps = { store, alma, clock, expiry: DEFAULT_EXPIRY_POLICY };
  // Webhooks run through the real use cases, on the same store, to race the refresh.
  const webhookDeps = { store, refreshQueue: new InMemoryUserRefreshQueue(), clock, expiry: DEFAULT_EXPIRY_POLICY };
  return { store, alma, clock, refresh: new RefreshUser(deps), webhookDeps };
};

const idsOf = (store: InMemoryCacheStore, kind: 'loan' | 'request' | 'fee') => [...store.users.get('pat0042x')!.ids[kind]].sort();

describe('Class: RefreshUser', () => {
  it('leaves out a record Alma lists with fields the cache must not store, keeping it as the cache had it', async () => {
    // Prepare: l1 cached live from an earlier refresh; Alma now lists it with a `tombstone` field, and l2 with a fine
    // beyond 2^53, next to a good l3.
    const { store, alma, refresh, clock } = makeRefresh();
    alma.seed('PAT0042X', { loan: [loan('l1')] });
    await refresh.execute('PAT0042X');
    clock.advanceSeconds(3600);
    alma.seed('PAT0042X', { loan: [loan('l1', { tombstone: true }), loan('l2', { fine: 2 ** 60 }), loan('l3')] });

    // Act
    const outcome = await refresh.execute('PAT0042X');

    // Assess: both refused with a reason, nothing of theirs written; l1 still live and linked, l2 never linked.
    expect(outcome.counts.loan).toEqual({ listed: 3, written: 1, stale: 0, skipped: 2, removed: 0 });
    expect(outcome.refused).toEqual([
      { kind: 'loan', itemId: 'l1', reason: '"loan.tombstone" is named like one of the cache\'s own attributes' },
      { kind: 'loan', itemId: 'l2', reason: expect.stringMatching(/"loan.fine" is an integer beyond 2\^53/) },
    ]);
    expect(store.items.loan.get('l1')).toMatchObject({ tombstone: false, fields: loan('l1') });
    expect(store.items.loan.has('l2')).toBe(false);
    expect(idsOf(store, 'loan')).toEqual(['l1', 'l3']);
  });

  it('caches an unknown patron with every loan, request and fee Alma lists, and their id sets', async () => {
    // Prepare
    const { store, alma, refresh } = makeRefresh();
    alma.seed('PAT0042X', { loan: [loan('l1'), loan('l2')], request: [request('r1')], fee: [fee('f1')] });

    // Act
    const outcome = await refresh.execute('PAT0042X');

    // Assess
    expect(outcome).toMatchObject({ userKey: 'pat0042x', result: 'refreshed', attempts: 1 });
    expect(outcome.counts.loan).toEqual({ listed: 2, written: 2, stale: 0, skipped: 0, removed: 0 });
    expect(idsOf(store, 'loan')).toEqual(['l1', 'l2']);
    expect(idsOf(store, 'request')).toEqual(['r1']);
    expect(idsOf(store, 'fee')).toEqual(['f1']);
    expect(store.users.get('pat0042x')!.refreshedAt).toBe(START);
    expect(store.items.fee.get('f1')).toMatchObject({ eventType: REFRESH_EVENT_TYPE, eventTime: SNAPSHOT_TIME, tombstone: false, fields: fee('f1') });
    expect(alma.calls).toEqual(['list loan PAT0042X', 'list request PAT0042X', 'list fee PAT0042X']);
  });

  it('removes from the patron what Alma no longer lists, leaving tombstones so older events cannot revive it', async () => {
    // Prepare
    const { store, alma, refresh } = makeRefresh();
    store.seedUser('pat0042x', { loan_ids: ['l1', 'gone'], fee_ids: ['paid'] });
    alma.seed('PAT0042X', { loan: [loan('l1')] });

    // Act
    const outcome = await refresh.execute('PAT0042X');

    // Assess
    expect(outcome.counts.loan.removed).toBe(1);
    expect(outcome.counts.fee.removed).toBe(1);
    expect(idsOf(store, 'loan')).toEqual(['l1']);
    expect(idsOf(store, 'fee')).toEqual([]);
    expect(store.items.loan.get('gone')).toMatchObject({ tombstone: true, eventTime: SNAPSHOT_TIME, fields: { user_id: 'PAT0042X' } });
    expect([...store.users.get('pat0042x')!.removedIds.loan]).toEqual(['gone']);
  });

  it('keeps a webhook version newer than the snapshot, record and link', async () => {
    // Prepare: a renewal stamped after the snapshot, and a loan created after it that Alma did not list yet
    const { store, alma, refresh, webhookDeps } = makeRefresh();
    store.seedUser('pat0042x');
    await new RecordLoan(webhookDeps).execute(almaWebhookMessage('LOAN_RENEWED', { itemId: 'l1', time: '2026-11-21T09:59:30.000Z' }));
    await new RecordLoan(webhookDeps).execute(almaWebhookMessage('LOAN_CREATED', { itemId: 'new', time: '2026-11-21T10:00:01.000Z' }));
    alma.seed('PAT0042X', { loan: [loan('l1', { due_date: 'before-renewal' })] });

    // Act
    const outcome = await refresh.execute('PAT0042X');

    // Assess
    expect(outcome.counts.loan).toMatchObject({ listed: 1, written: 0, stale: 1, removed: 0 });
    expect(store.items.loan.get('l1')!.eventType).toBe('LOAN_RENEWED');
    expect(store.items.loan.get('new')!.tombstone).toBe(false);
    expect(idsOf(store, 'loan')).toEqual(['l1', 'new']);
  });

  it('keeps an id that a webhook links while the refresh runs, by writing the patron again', async () => {
    // Prepare
    const { store, alma, refresh, webhookDeps } = makeRefresh();
    alma.seed('PAT0042X', { loan: [loan('l1')] });
    store.beforeNext('replaceUser', async () => {
      await new RecordLoan(webhookDeps).execute(almaWebhookMessage('LOAN_CREATED', { itemId: 'during', time: '2026-11-21T10:00:02.000Z' }));
    });

    // Act
    const outcome = await refresh.execute('PAT0042X');

    // Assess
    expect(outcome.attempts).toBe(2);
    expect(idsOf(store, 'loan')).toEqual(['during', 'l1']);
  });

  it('does not bring back a listed loan that a webhook returns while the refresh runs', async () => {
    // Prepare
    const { store, alma, refresh, webhookDeps } = makeRefresh();
    store.seedUser('pat0042x', { loan_ids: ['l1'] });
    alma.seed('PAT0042X', { loan: [loan('l1'), loan('l2')] });
    store.beforeNext('replaceUser', async () => {
      await new RemoveLoan(webhookDeps).execute(almaWebhookMessage('LOAN_RETURNED', { itemId: 'l1', time: '2026-11-21T10:00:03.000Z' }));
    });

    // Act
    await refresh.execute('PAT0042X');

    // Assess
    expect(idsOf(store, 'loan')).toEqual(['l2']);
    expect(store.items.loan.get('l1')!.tombstone).toBe(true);
  });

  it('gives webhooks arriving before Alma answers a patron record to link to, so none is lost', async () => {
    // Prepare: the patron is unknown; a loan is created while the refresh waits for Alma
    const { store, alma, refresh, webhookDeps } = makeRefresh();
    alma.seed('PAT0042X', { loan: [loan('l1')] });
    const listLoans = alma.listRecords.bind(alma);
    alma.listRecords = async (id, kind) => {
      if (kind === 'loan') {
        const outcome = await new RecordLoan(webhookDeps).execute(
          almaWebhookMessage('LOAN_CREATED', { itemId: 'meanwhile', time: '2026-11-21T10:00:04.000Z' }),
        );
        expect(outcome.user).toBe('linked');
      }
      return listLoans(id, kind);
    };

    // Act
    await refresh.execute('PAT0042X');

    // Assess
    expect(idsOf(store, 'loan')).toEqual(['l1', 'meanwhile']);
  });

  it('removes the patron and tombstones their records when Alma has no such user', async () => {
    // Prepare
    const { store, refresh } = makeRefresh();
    store.seedUser('pat0042x', { loan_ids: ['l1'], request_ids: ['r1'] });

    // Act
    const outcome = await refresh.execute('PAT0042X');

    // Assess
    expect(outcome).toMatchObject({ result: 'user-not-found' });
    expect(outcome.counts.loan.removed).toBe(1);
    expect(store.users.has('pat0042x')).toBe(false);
    expect(store.items.loan.get('l1')!.tombstone).toBe(true);
    expect(store.items.request.get('r1')!.tombstone).toBe(true);
  });

  it.each([
    ['a no-break space after it', 'PAT0042X\u00a0', 'PAT0042X'],
    ['an ideographic space before it', '\u3000PAT0042X', 'PAT0042X'],
    ['a byte order mark before it', '\ufeffPAT0042X', 'PAT0042X'],
    ['a KELVIN SIGN for its k', '\u212aPAT7', 'KPAT7'],
    ['a dotless i for its I', 'PAT\u0131D', 'PATID'],
    ['fullwidth letters', '\uff30\uff21\uff34\uff10\uff10\uff14\uff12\uff38', 'PAT0042X'],
    ['a U+FFFF', 'PAT0042X\uffff', 'PAT0042X'],
  ])('refuses an id with %s before anything is written or asked, leaving the look-alike patron as it was', async (_what, id, realId) => {
    // Prepare: the real patron the id looks like, cached and known to Alma; Alma would not know the look-alike
    const { store, alma, refresh } = makeRefresh();
    const realKey = realId.toLowerCase();
    store.seedUser(realKey, { loan_ids: ['l1'] });
    alma.seed(realId, { loan: [loan('l1', { user_id: realId })] });
    const before = structuredClone(store.users.get(realKey));

    // Act
    const refreshing = refresh.execute(id);

    // Assess
    await expect(refreshing).rejects.toThrow(AlmaInvalidIdentifierError);
    expect(alma.calls).toEqual([]);
    expect(store.calls).toEqual([]);
    expect(store.users.get(realKey)).toEqual(before);
    expect([...store.users.keys()]).toEqual([realKey]);
  });

  it('fails without writing any record when Alma is unavailable, so the message is retried', async () => {
    // Prepare
    const { store, alma, refresh } = makeRefresh();
    store.seedUser('pat0042x', { loan_ids: ['l1'] });
    alma.seed('PAT0042X', { loan: [] });
    alma.failNext(new AlmaUnavailableError('HTTP 503 on every attempt'));

    // Act
    const refreshing = refresh.execute('PAT0042X');

    // Assess
    await expect(refreshing).rejects.toThrow(AlmaUnavailableError);
    expect(store.calls).not.toContain('writeItem');
    expect(idsOf(store, 'loan')).toEqual(['l1']);
  });

  it('skips a listed record without an id instead of failing the whole patron', async () => {
    // Prepare
    const { store, alma, refresh } = makeRefresh();
    alma.seed('PAT0042X', { loan: [loan('l1'), { user_id: 'PAT0042X' }] });

    // Act
    const outcome = await refresh.execute('PAT0042X');

    // Assess
    expect(outcome.counts.loan).toMatchObject({ listed: 2, written: 1, skipped: 1 });
    expect(idsOf(store, 'loan')).toEqual(['l1']);
  });

  it('gives up after five concurrent changes in a row, leaving the message to be retried', async () => {
    // Prepare
    const { store, alma, refresh } = makeRefresh();
    alma.seed('PAT0042X', { loan: [loan('l1')] });
    for (let i = 0; i < 5; i++) {
      store.beforeNext('replaceUser', async () => {
        await store.linkItem('pat0042x', 'loan', `race-${i}`);
      });
    }

    // Act
    const refreshing = refresh.execute('PAT0042X');

    // Assess
    await expect(refreshing).rejects.toThrow(/changed during 5 attempts/);
    expect(store.calls.filter((call) => call === 'replaceUser')).toHaveLength(5);
  });
});

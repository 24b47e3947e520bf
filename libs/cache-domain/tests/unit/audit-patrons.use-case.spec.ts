import {
  AlmaBudgetExhaustedError,
  AuditPatrons,
  type AuditedRecord,
  type CacheAuditReader,
  type CachedUser,
  comparePatron,
  DEFAULT_EXPIRY_POLICY,
  differentFields,
  type ItemKind,
  RefreshUser,
} from '../../src';
import { InMemoryAlmaApi, InMemoryCacheStore, ManualClock } from '../../src/testing';

const NOW = '2026-11-21T10:00:00.000Z';
const HOUR_AGO = '2026-11-21T09:00:00.000Z';
const MINUTE_AGO = '2026-11-21T09:59:00.000Z';

const loan = (id: string, extra: Record<string, unknown> = {}) => ({ loan_id: id, user_id: 'PAT0042X', due_date: '2026-12-01T23:59:00Z', ...extra });
const request = (id: string, extra: Record<string, unknown> = {}) => ({
  request_id: id,
  user_primary_id: 'PAT0042X',
  request_status: 'NOT_STARTED',
  ...extra,
});
const fee = (id: string, extra: Record<string, unknown> = {}) => ({ id, user_primary_id: { value: 'PAT0042X' }, balance: 2.5, ...extra });

const stored = (itemId: string, fields: Record<string, unknown>, extra: Partial<AuditedRecord> = {}): AuditedRecord => ({
  itemId,
  tombstone: false,
  eventTime: HOUR_AGO,
  fields,
  ...extra,
});

const userOf = (ids: Partial<Record<ItemKind, string[]>>, removed: Partial<Record<ItemKind, string[]>> = {}): CachedUser => ({
  userKey: 'pat0042x',
  ids: { loan: new Set(ids.loan ?? []), request: new Set(ids.request ?? []), fee: new Set(ids.fee ?? []) },
  removedIds: { loan: new Set(removed.loan ?? []), request: new Set(removed.request ?? []), fee: new Set(removed.fee ?? []) },
  version: 3,
  refreshedAt: HOUR_AGO,
});

const cachedOf = (records: Partial<Record<ItemKind, AuditedRecord[]>>) => ({
  loan: new Map((records.loan ?? []).map((record) => [record.itemId, record])),
  request: new Map((records.request ?? []).map((record) => [record.itemId, record])),
  fee: new Map((records.fee ?? []).map((record) => [record.itemId, record])),
});

const compare = (user: CachedUser, alma: Partial<Record<ItemKind, Record<string, unknown>[]>>, cached: Partial<Record<ItemKind, AuditedRecord[]>>) =>
  comparePatron({ user, alma: { loan: [], request: [], fee: [], ...alma }, cached: cachedOf(cached), now: new Date(NOW), graceSeconds: 300 });

describe('Function: comparePatron', () => {
  it('finds nothing when the cache shows what Alma lists, whatever the order of keys and absent versus null', () => {
    // Prepare: the stored fee has its keys in another order and leaves out a field Alma sends as null.
    const user = userOf({ loan: ['l1'], fee: ['f1'] });
    const result = compare(
      user,
      { loan: [loan('l1')], fee: [fee('f1', { comment: null })] },
      { loan: [stored('l1', loan('l1'))], fee: [stored('f1', { balance: 2.5, user_primary_id: { value: 'PAT0042X' }, id: 'f1' })] },
    );

    // Assess
    expect(result).toEqual({ drifts: [], inFlight: 0, compared: 2 });
  });

  it('tells each kind of drift apart, with its reason and, for a different record, the fields that differ', () => {
    // Prepare: l1 not cached, l2 tombstoned, l3 cached but unlinked, l4 unlinked and in the removed ids, l5 due date
    // changed, l6 linked and live but no longer listed (returned), l7 another patron's record, l8 linked with nothing
    // behind it; r1's status and f1's balance changed.
    const user = userOf({ loan: ['l2', 'l5', 'l6', 'l7', 'l8'], request: ['r1'], fee: ['f1'] }, { loan: ['l4'] });
    const result = compare(
      user,
      { loan: [loan('l1'), loan('l2'), loan('l3'), loan('l4'), loan('l5')], request: [request('r1')], fee: [fee('f1')] },
      {
        loan: [
          stored('l2', { user_id: 'PAT0042X' }, { tombstone: true }),
          stored('l3', loan('l3')),
          stored('l4', loan('l4')),
          stored('l5', loan('l5', { due_date: '2026-12-15T23:59:00Z' })),
          stored('l6', loan('l6')),
          stored('l7', loan('l7', { user_id: 'PAT0099Y' })),
        ],
        request: [stored('r1', request('r1', { request_status: 'ON_HOLD_SHELF' }))],
        fee: [stored('f1', fee('f1', { balance: 1 }))],
      },
    );

    // Assess
    expect(result.drifts).toEqual([
      { kind: 'loan', itemId: 'l1', drift: 'missing', reason: 'not-cached' },
      { kind: 'loan', itemId: 'l2', drift: 'missing', reason: 'tombstoned' },
      { kind: 'loan', itemId: 'l3', drift: 'missing', reason: 'not-linked' },
      { kind: 'loan', itemId: 'l4', drift: 'missing', reason: 'removed-id' },
      { kind: 'loan', itemId: 'l5', drift: 'different', reason: 'fields', fields: ['due_date'] },
      { kind: 'loan', itemId: 'l6', drift: 'extra', reason: 'not-listed' },
      { kind: 'loan', itemId: 'l7', drift: 'extra', reason: 'another-patron' },
      { kind: 'loan', itemId: 'l8', drift: 'extra', reason: 'dangling' },
      { kind: 'request', itemId: 'r1', drift: 'different', reason: 'fields', fields: ['request_status'] },
      { kind: 'fee', itemId: 'f1', drift: 'different', reason: 'fields', fields: ['balance'] },
    ]);
    expect(result).toMatchObject({ inFlight: 0, compared: 10 });
  });

  it('does not count a record changed within the grace, in the cache or in Alma, and counts it once the grace is over', () => {
    // Prepare: l1's cached version was written a minute ago; l2 was renewed in Alma a minute ago (its webhook on the
    // way); l3 was returned by a webhook dated a minute ahead (Alma's clock runs a little fast).
    const user = userOf({ loan: ['l1', 'l2', 'l3'] });
    const alma = { loan: [loan('l1'), loan('l2', { last_renew_date: MINUTE_AGO, due_date: '2026-12-29T23:59:00Z' })] };
    const cached = {
      loan: [
        stored('l1', loan('l1', { due_date: '2026-12-08T23:59:00Z' }), { eventTime: MINUTE_AGO }),
        stored('l2', loan('l2')),
        stored('l3', loan('l3'), { eventTime: '2026-11-21T10:01:00.000Z' }),
      ],
    };

    // Act
    const now = compare(user, alma, cached);
    const later = comparePatron({
      user,
      alma: { loan: alma.loan, request: [], fee: [] },
      cached: cachedOf(cached),
      now: new Date(NOW),
      graceSeconds: 30,
    });

    // Assess
    expect(now).toEqual({ drifts: [], inFlight: 3, compared: 3 });
    // With a 30 s grace the two a minute old count; the version dated ahead is still in flight.
    expect(later.drifts.map((drift) => `${drift.itemId} ${drift.drift}`)).toEqual(['l1 different', 'l2 different']);
    expect(later.inFlight).toBe(1);
  });

  it('leaves out a record Alma lists that the cache must not store, as the refresh does', () => {
    // Prepare: Alma lists l1 with a field named like the cache's own; the cache keeps its earlier version linked.
    const result = compare(userOf({ loan: ['l1'] }), { loan: [loan('l1', { tombstone: true })] }, { loan: [stored('l1', loan('l1'))] });

    // Assess
    expect(result).toEqual({ drifts: [], inFlight: 0, compared: 0 });
  });
});

describe('Function: differentFields', () => {
  it('names the top-level fields whose values differ, deeply and sorted', () => {
    expect(
      differentFields({ b: { value: 'X', desc: 'd' }, a: [1, 2], c: 'same' }, { a: [2, 1], b: { desc: 'd', value: 'Y' }, c: 'same', d: 1 }),
    ).toEqual(['a', 'b', 'd']);
  });
});

/** The audit's reader over the in-memory store, as the DynamoDB adapter reads the tables. */
const auditReaderOf = (store: InMemoryCacheStore, sample: () => string[]): CacheAuditReader => ({
  samplePatrons: async (size) => sample().slice(0, size),
  readRecords: async (kind, itemIds) => {
    const found = new Map<string, AuditedRecord>();
    for (const id of itemIds) {
      const record = store.items[kind].get(id);
      if (record) found.set(id, { itemId: id, tombstone: record.tombstone, eventTime: record.eventTime, fields: record.fields });
    }
    return found;
  },
});

const makeAudit = () => {
  const store = new InMemoryCacheStore();
  const alma = new InMemoryAlmaApi();
  const clock = new ManualClock(HOUR_AGO);
  const base = { store, alma, clock, expiry: DEFAULT_EXPIRY_POLICY };
  const audit = new AuditPatrons({ ...base, reader: auditReaderOf(store, () => [...store.users.keys()].sort()) });
  return { store, alma, clock, audit, refresh: new RefreshUser(base) };
};

describe('Class: AuditPatrons', () => {
  it('reports a drifted patron without writing anything, then repairs them with the refresh rule so a second audit finds nothing', async () => {
    // Prepare: two patrons refreshed an hour ago; then PAT0042X's loan is renewed in Alma and a request is closed
    // without the cache hearing of either.
    const { store, alma, clock, audit, refresh } = makeAudit();
    alma.seed('PAT0042X', { loan: [loan('l1')], request: [request('r1')], fee: [fee('f1')] });
    alma.seed('PAT0001A', { loan: [{ loan_id: 'm1', user_id: 'PAT0001A' }] });
    await refresh.execute('PAT0042X');
    await refresh.execute('PAT0001A');
    clock.advanceSeconds(3600);
    alma.seed('PAT0042X', { loan: [loan('l1', { due_date: '2026-12-29T23:59:00Z' })], request: [], fee: [fee('f1')] });
    const callsBefore = store.calls.length;
    alma.calls.length = 0;

    // Act
    const report = await audit.auditSample(10, { repair: false });
    const reportCalls = store.calls.slice(callsBefore);
    const repaired = await audit.auditSample(10, { repair: true });
    const again = await audit.auditSample(10, { repair: false });

    // Assess: the same drift both times, nothing written by the report, three Alma calls per patron per run.
    expect(report).toMatchObject({
      audited: 2,
      drifted: 1,
      repaired: 0,
      missing: { loan: 0, request: 0, fee: 0 },
      extra: { loan: 0, request: 1, fee: 0 },
    });
    expect(report.different.loan).toEqual({ due_date: 1 });
    expect(reportCalls.filter((call) => call !== 'readUser')).toEqual([]);
    expect(repaired).toMatchObject({ audited: 2, drifted: 1, repaired: 1 });
    expect(again).toMatchObject({ audited: 2, drifted: 0, repaired: 0, different: { loan: {}, request: {}, fee: {} } });
    expect(alma.calls).toHaveLength(3 * 2 * 3);
    expect(store.items.request.get('r1')?.tombstone).toBe(true);
    expect(store.items.loan.get('l1')?.fields['due_date']).toBe('2026-12-29T23:59:00Z');
  });

  it("unlinks another patron's record from the patron without removing it from its owner", async () => {
    // Prepare: m1 is PAT0001A's loan; a bug linked it to PAT0042X too.
    const { store, alma, clock, audit, refresh } = makeAudit();
    alma.seed('PAT0042X', { loan: [loan('l1')] });
    alma.seed('PAT0001A', { loan: [{ loan_id: 'm1', user_id: 'PAT0001A' }] });
    await refresh.execute('PAT0042X');
    await refresh.execute('PAT0001A');
    clock.advanceSeconds(3600);
    await store.linkItem('pat0042x', 'loan', 'm1');

    // Act
    const audited = await audit.auditPatron('PAT0042X', { repair: true });

    // Assess
    expect(audited).toMatchObject({
      result: 'drifted',
      repaired: true,
      drifts: [{ kind: 'loan', itemId: 'm1', drift: 'extra', reason: 'another-patron' }],
    });
    expect([...store.users.get('pat0042x')!.ids.loan]).toEqual(['l1']);
    expect(store.items.loan.get('m1')?.tombstone).toBe(false);
    expect([...store.users.get('pat0001a')!.ids.loan]).toEqual(['m1']);
  });

  it('skips a patron that is not cached or whose first refresh has not completed, without asking Alma', async () => {
    // Prepare: a placeholder row, as a refresh in progress leaves it.
    const { store, alma, audit } = makeAudit();
    await store.beginUserRefresh('pat0042x', 2_000_000_000);

    // Act
    const placeholder = await audit.auditPatron('PAT0042X', { repair: true });
    const absent = await audit.auditPatron('NOBODY', { repair: true });

    // Assess
    expect([placeholder.result, absent.result]).toEqual(['skipped', 'skipped']);
    expect(alma.calls).toEqual([]);
  });

  it('pauses once when the budget is busy, and leaves the rest of the sample for the next run when it stays busy', async () => {
    // Prepare: three patrons; the budget refuses the first patron's first call, then twice for the second.
    const { alma, clock, audit, refresh } = makeAudit();
    for (const id of ['PAT0001A', 'PAT0002B', 'PAT0003C']) {
      alma.seed(id);
      await refresh.execute(id);
    }
    clock.advanceSeconds(3600);
    const pauses: number[] = [];
    alma.failNext(new AlmaBudgetExhaustedError(3, 200, 2));

    // Act
    const first = await audit.auditSample(3, { repair: false, pause: async (seconds) => void pauses.push(seconds) });
    alma.failNext(new AlmaBudgetExhaustedError(3, 200, 1));
    const patrons: string[] = [];
    const stopped = await audit.auditSample(3, {
      repair: false,
      onPatron: (one) => patrons.push(one.userKey),
      pause: async (seconds) => {
        pauses.push(seconds);
        alma.failNext(new AlmaBudgetExhaustedError(3, 200, 1));
      },
    });

    // Assess
    expect(first).toMatchObject({ audited: 3, budgetPauses: 1, leftForLater: 0 });
    expect(stopped).toMatchObject({ audited: 0, budgetPauses: 1, leftForLater: 3 });
    expect(patrons).toEqual([]);
    expect(pauses).toEqual([2, 1]);
  });
});

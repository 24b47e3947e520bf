import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ItemRecord } from '@alma-cache/cache-domain';
import { almaWebhooks } from '@alma-cache/cache-domain/testing';
import { type CacheTableNames, createDocumentClient, DynamoDbCacheStore } from '../../src';
import { createCacheTables } from '../../src/testing';

const loanFields = almaWebhooks.LOAN_CREATED['item_loan'] as Record<string, unknown>;
const LOAN_ID = '7391500230004561';

const loanRecord = (overrides: Partial<ItemRecord> = {}): ItemRecord => ({
  kind: 'loan',
  itemId: LOAN_ID,
  userPrimaryId: 'PAT0042X',
  eventId: 'e1',
  eventType: 'LOAN_CREATED',
  eventTime: '2026-11-21T10:15:03.120Z',
  tombstone: false,
  expiresAt: 1_900_000_000,
  fields: loanFields,
  ...overrides,
});

describe('Class: DynamoDbCacheStore', () => {
  const client = createDocumentClient();
  let tables: CacheTableNames;
  let store: DynamoDbCacheStore;

  const getLoan = async () => (await client.send(new GetCommand({ TableName: tables.loans, Key: { loan_id: LOAN_ID } }))).Item;
  const getUser = async (key = 'pat0042x') => (await client.send(new GetCommand({ TableName: tables.users, Key: { primary_id: key } }))).Item;
  const seedUser = (key = 'pat0042x') => client.send(new PutCommand({ TableName: tables.users, Item: { primary_id: key } }));

  beforeEach(async () => {
    tables = await createCacheTables();
    store = new DynamoDbCacheStore(client, tables);
  });

  afterAll(() => client.destroy());

  it('stores every Alma field, nested objects as maps, with the event stamp and TTL', async () => {
    // Act
    const result = await store.writeItem(loanRecord());

    // Assess
    expect(result).toBe('written');
    expect(await getLoan()).toEqual({
      ...loanFields,
      alma_event_id: 'e1',
      alma_event_type: 'LOAN_CREATED',
      alma_event_time: '2026-11-21T10:15:03.120Z',
      expires_at: 1_900_000_000,
    });
  });

  it('keeps newer state: an older event is stale, a newer one is written, a replay is a duplicate', async () => {
    // Prepare
    await store.writeItem(loanRecord({ eventId: 'e2', eventTime: '2026-12-01T09:00:12.004Z', eventType: 'LOAN_RENEWED' }));

    // Act
    const older = await store.writeItem(loanRecord());
    const replay = await store.writeItem(loanRecord({ eventId: 'e2', eventTime: '2026-12-01T09:00:12.004Z', eventType: 'LOAN_RENEWED' }));
    const sameTimeOtherEvent = await store.writeItem(loanRecord({ eventId: 'e9', eventTime: '2026-12-01T09:00:12.004Z' }));
    const newer = await store.writeItem(loanRecord({ eventId: 'e3', eventTime: '2026-12-03T14:30:00.000Z', eventType: 'LOAN_DUE_DATE' }));

    // Assess
    expect([older, replay, sameTimeOtherEvent, newer]).toEqual(['stale', 'duplicate', 'stale', 'written']);
    expect(await getLoan()).toMatchObject({ alma_event_id: 'e3', alma_event_type: 'LOAN_DUE_DATE' });
  });

  it('lets a tombstone win a tie and keeps it against older updates', async () => {
    // Prepare
    const time = '2026-12-10T16:42:52.500Z';
    await store.writeItem(loanRecord({ eventId: 'renew', eventTime: time }));

    // Act
    const tombstone = await store.writeItem(loanRecord({ eventId: 'return', eventTime: time, tombstone: true }));
    const lateRenew = await store.writeItem(loanRecord({ eventId: 'renew', eventTime: time }));
    const olderUpdate = await store.writeItem(loanRecord({ eventId: 'old', eventTime: '2026-12-01T00:00:00.000Z' }));

    // Assess
    expect([tombstone, lateRenew, olderUpdate]).toEqual(['written', 'stale', 'stale']);
    expect(await getLoan()).toMatchObject({ tombstone: true, alma_event_id: 'return' });
  });

  it('supersedes a record left by the original stack, which has no event time', async () => {
    // Prepare
    await client.send(new PutCommand({ TableName: tables.loans, Item: { loan_id: LOAN_ID, title: 'old shape' } }));

    // Act
    const result = await store.writeItem(loanRecord());

    // Assess
    expect(result).toBe('written');
    expect(await getLoan()).toMatchObject({ title: loanFields['title'], alma_event_id: 'e1' });
  });

  it('adds and removes ids on a cached patron as a string set', async () => {
    // Prepare
    await seedUser();

    // Act
    const linked = [await store.linkItem('pat0042x', 'loan', 'a'), await store.linkItem('pat0042x', 'loan', 'b')];
    await store.linkItem('pat0042x', 'loan', 'a');
    await store.linkItem('pat0042x', 'request', 'r1');
    const unlinked = await store.unlinkItem('pat0042x', 'loan', 'a');

    // Assess
    expect([...linked, unlinked]).toEqual(['updated', 'updated', 'updated']);
    expect(await getUser()).toEqual({
      primary_id: 'pat0042x',
      loan_ids: new Set(['b']),
      request_ids: new Set(['r1']),
      removed_loan_ids: new Set(['a']),
      // Every link and unlink counts, even the repeated one: a refresh only needs to know something happened.
      user_version: 5,
    });
  });

  it('never links an id the patron has seen removed: Alma does not reuse loan ids', async () => {
    // Prepare
    await seedUser();
    await store.linkItem('pat0042x', 'loan', 'a');
    await store.unlinkItem('pat0042x', 'loan', 'a');

    // Act
    const relinked = await store.linkItem('pat0042x', 'loan', 'a');
    const otherKind = await store.linkItem('pat0042x', 'request', 'a');

    // Assess
    expect([relinked, otherKind]).toEqual(['item-removed', 'updated']);
    expect(await getUser()).toEqual({
      primary_id: 'pat0042x',
      request_ids: new Set(['a']),
      removed_loan_ids: new Set(['a']),
      user_version: 3,
    });
  });

  it('reports an unknown patron and does not create one', async () => {
    // Act
    const results = [await store.linkItem('nobody', 'loan', 'a'), await store.unlinkItem('nobody', 'request', 'r')];

    // Assess
    expect(results).toEqual(['user-not-cached', 'user-not-cached']);
    expect(await getUser('nobody')).toBeUndefined();
  });

  it('grants a refresh claim once per window, again to the same claimant (a retry), and again once the window has passed', async () => {
    // Prepare
    const claim = (claimant: string, nowSeconds: number) =>
      store.claimUserRefresh({ userKey: 'pat0042x', claimant, nowSeconds, untilSeconds: nowSeconds + 300 });

    // Act
    const results = [await claim('e1', 1000), await claim('e2', 1100), await claim('e1', 1200), await claim('e3', 1500), await claim('e4', 1501)];

    // Assess
    expect(results).toEqual([true, false, true, true, false]);
  });

  it('refuses the claim to its own claimant once its request is marked sent, until the window has passed', async () => {
    // Prepare
    const claim = (claimant: string, nowSeconds: number) =>
      store.claimUserRefresh({ userKey: 'pat0042x', claimant, nowSeconds, untilSeconds: nowSeconds + 300 });
    await claim('e1', 1000);

    // Act
    await store.markRefreshSent('pat0042x', 'e2');
    const copyBeside = await claim('e1', 1010);
    const retryBeforeSent = await claim('e1', 1060);
    await store.markRefreshSent('pat0042x', 'e1');
    const redelivery = await claim('e1', 1120);
    const afterWindow = await claim('e1', 1400);

    // Assess
    expect([copyBeside, retryBeforeSent, redelivery, afterWindow]).toEqual([false, true, false, true]);
    expect((await client.send(new GetCommand({ TableName: tables.refreshClaims!, Key: { primary_id: 'pat0042x' } }))).Item).toEqual({
      primary_id: 'pat0042x',
      claimant: 'e1',
      expires_at: 1700,
      claimed_at: 1400,
    });
  });

  it('lets the same claimant claim a claim written before claimed_at existed at once, as before the upgrade', async () => {
    // Prepare: an unsent claim as the previous release wrote it
    await client.send(new PutCommand({ TableName: tables.refreshClaims!, Item: { primary_id: 'pat0042x', claimant: 'e1', expires_at: 1300 } }));

    // Act
    const retry = await store.claimUserRefresh({ userKey: 'pat0042x', claimant: 'e1', nowSeconds: 1001, untilSeconds: 1301 });
    const other = await store.claimUserRefresh({ userKey: 'pat0042x', claimant: 'e2', nowSeconds: 1002, untilSeconds: 1302 });

    // Assess
    expect([retry, other]).toEqual([true, false]);
  });

  it('grants exactly one of 25 concurrent claims', async () => {
    // Act
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => store.claimUserRefresh({ userKey: 'pat0042x', claimant: `e${i}`, nowSeconds: 1000, untilSeconds: 1300 })),
    );

    // Assess
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('lets other errors through to be retried', async () => {
    // Prepare
    const broken = new DynamoDbCacheStore(client, { ...tables, loans: 'no-such-table' });

    // Act / Assess
    await expect(broken.writeItem(loanRecord())).rejects.toThrow(/non-existent table|ResourceNotFound/i);
  });
});

describe('Class: DynamoDbCacheStore (refresh)', () => {
  const client = createDocumentClient();
  let tables: Required<CacheTableNames>;
  let store: DynamoDbCacheStore;
  const getUser = async () => (await client.send(new GetCommand({ TableName: tables.users, Key: { primary_id: 'pat0042x' } }))).Item;
  const sets = (loan: string[], request: string[] = [], fee: string[] = []) => ({
    loan: new Set(loan),
    request: new Set(request),
    fee: new Set(fee),
  });
  const snapshot = (loan: string[], fee: string[] = []) => ({
    userKey: 'pat0042x',
    ids: sets(loan, [], fee),
    removedIds: sets(['old']),
    refreshedAt: '2026-11-21T10:00:00.000Z',
    expiresAt: 1_900_000_000,
  });

  beforeEach(async () => {
    tables = await createCacheTables();
    store = new DynamoDbCacheStore(client, tables);
  });

  afterAll(() => client.destroy());

  it('starts a refresh with an empty, unrefreshed patron, and leaves a cached patron as it is', async () => {
    // Act
    await store.beginUserRefresh('pat0042x', 1_800_000_000);
    await store.linkItem('pat0042x', 'loan', 'l1');
    await store.beginUserRefresh('pat0042x', 1_900_000_000);

    // Assess
    expect(await store.readUser('pat0042x')).toEqual({ userKey: 'pat0042x', ids: sets(['l1']), removedIds: sets([]), version: 1 });
    expect((await getUser())!['expires_at']).toBe(1_800_000_000);
    expect(await store.readUser('nobody')).toBeUndefined();
  });

  it('replaces the patron only at the version it read, storing empty sets as absent attributes', async () => {
    // Prepare
    await store.beginUserRefresh('pat0042x', 1_800_000_000);

    // Act
    const first = await store.replaceUser(snapshot(['l1'], ['f1']), 0);
    const outdated = await store.replaceUser(snapshot(['l2']), 0);
    const next = await store.replaceUser(snapshot([]), 1);

    // Assess
    expect([first, outdated, next]).toEqual([true, false, true]);
    expect(await getUser()).toEqual({
      primary_id: 'pat0042x',
      removed_loan_ids: new Set(['old']),
      user_version: 2,
      refreshed_at: '2026-11-21T10:00:00.000Z',
      expires_at: 1_900_000_000,
    });
  });

  it('sees a webhook link between read and replace as a conflict', async () => {
    // Prepare
    await store.beginUserRefresh('pat0042x', 1_800_000_000);
    const read = await store.readUser('pat0042x');
    await store.linkItem('pat0042x', 'fee', 'f9');

    // Act
    const replaced = await store.replaceUser(snapshot(['l1']), read!.version);

    // Assess
    expect(replaced).toBe(false);
    expect((await store.readUser('pat0042x'))!.ids.fee).toEqual(new Set(['f9']));
  });

  it('treats a patron written before versions existed as version 0, and never replaces a deleted one', async () => {
    // Prepare
    await client.send(new PutCommand({ TableName: tables.users, Item: { primary_id: 'pat0042x', loan_ids: new Set(['l1']) } }));

    // Act
    const read = await store.readUser('pat0042x');
    const deleted = await store.deleteUser('pat0042x', read!.version);
    const replacedAfterDelete = await store.replaceUser(snapshot(['l1']), 0);

    // Assess
    expect(read!.version).toBe(0);
    expect([deleted, replacedAfterDelete]).toEqual([true, false]);
    expect(await getUser()).toBeUndefined();
  });

  it('writes fees to the Fees table under fee_id, and says which table is missing when a service has none', async () => {
    // Prepare
    const fee: ItemRecord = { ...loanRecord(), kind: 'fee', itemId: 'f1', fields: { id: 'f1', balance: 2.5 } };
    const withoutFees = { ...tables, fees: undefined };

    // Act
    await store.writeItem(fee);

    // Assess
    const stored = await client.send(new GetCommand({ TableName: tables.fees, Key: { fee_id: 'f1' } }));
    expect(stored.Item).toMatchObject({ fee_id: 'f1', id: 'f1', balance: 2.5 });
    await expect(new DynamoDbCacheStore(client, withoutFees).writeItem(fee)).rejects.toThrow('DynamoDbCacheStore was given no fees table name');
  });
});

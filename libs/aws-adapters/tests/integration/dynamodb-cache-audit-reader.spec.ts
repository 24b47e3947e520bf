import { ITEM_KINDS, type ItemRecord } from '@alma-cache/cache-domain';
import { createDocumentClient, DynamoDbCacheAuditReader, DynamoDbCacheStore } from '../../src';
import { createCacheTables } from '../../src/testing';

const record = (overrides: Partial<ItemRecord> & Pick<ItemRecord, 'kind' | 'itemId' | 'fields'>): ItemRecord => ({
  userPrimaryId: 'PAT0042X',
  eventId: 'e1',
  eventType: 'LOAN_CREATED',
  eventTime: '2026-11-21T10:15:03.120Z',
  tombstone: false,
  expiresAt: 1_900_000_000,
  ...overrides,
});

const noIds = () => Object.fromEntries(ITEM_KINDS.map((kind) => [kind, new Set<string>()])) as Record<(typeof ITEM_KINDS)[number], Set<string>>;

// Rows written by the real DynamoDbCacheStore, so the audit reads what the writers store.
describe('Class: DynamoDbCacheAuditReader', () => {
  const client = createDocumentClient();
  let tables: Awaited<ReturnType<typeof createCacheTables>>;
  let store: DynamoDbCacheStore;
  const complete = Array.from({ length: 12 }, (_, index) => `pat${String(index).padStart(4, '0')}`);

  beforeAll(async () => {
    tables = await createCacheTables();
    store = new DynamoDbCacheStore(client, tables);
    for (const userKey of complete) {
      await store.beginUserRefresh(userKey, 1_900_000_000);
      await store.replaceUser({ userKey, ids: noIds(), removedIds: noIds(), refreshedAt: '2026-11-21T10:00:00.000Z', expiresAt: 1_900_000_000 }, 0);
    }
    // A placeholder: a first refresh still running, nothing to hold to Alma yet.
    await store.beginUserRefresh('placeholder', 1_900_000_000);
  });

  afterAll(() => client.destroy());

  it('samples only complete patrons, each once, from wherever the random start falls, wrapping round the segments', async () => {
    // Prepare: 8 segments for 13 rows, so most segments hold one or two and the scan must go on past its first.
    const at = (position: number) => new DynamoDbCacheAuditReader(client, tables, { totalSegments: 8, random: () => position });

    // Act
    const samples = await Promise.all([0, 0.3, 0.6, 0.99].map((position) => at(position).samplePatrons(5)));
    const everyone = await at(0.5).samplePatrons(100);

    // Assess: five distinct complete patrons each time, the placeholder never; all twelve when asked for more.
    for (const sample of samples) {
      expect(sample).toHaveLength(5);
      expect(new Set(sample).size).toBe(5);
      for (const key of sample) expect(complete).toContain(key);
    }
    expect(new Set(samples.map((sample) => sample.join())).size).toBeGreaterThan(1);
    expect([...everyone].sort()).toEqual(complete);
  });

  it("reads a patron's records as Alma sent them, with their event time and tombstone, leaving out ids with no record", async () => {
    // Prepare
    await store.writeItem(
      record({ kind: 'loan', itemId: 'l1', fields: { loan_id: 'l1', user_id: 'PAT0042X', due_date: '2026-12-01T23:59:00Z', description: null } }),
    );
    await store.writeItem(
      record({ kind: 'loan', itemId: 'l2', tombstone: true, eventTime: '2026-11-22T08:00:00.000Z', fields: { user_id: 'PAT0042X' } }),
    );
    await store.writeItem(record({ kind: 'fee', itemId: 'f1', fields: { id: 'f1', balance: 2.5, user_primary_id: { value: 'PAT0042X' } } }));
    const reader = new DynamoDbCacheAuditReader(client, tables);

    // Act
    const loans = await reader.readRecords('loan', ['l1', 'l2', 'absent']);
    const fees = await reader.readRecords('fee', ['f1']);

    // Assess: the cache's own attributes and a fee's table key are not Alma's fields.
    expect(Object.fromEntries(loans)).toEqual({
      l1: {
        itemId: 'l1',
        tombstone: false,
        eventTime: '2026-11-21T10:15:03.120Z',
        fields: { loan_id: 'l1', user_id: 'PAT0042X', due_date: '2026-12-01T23:59:00Z', description: null },
      },
      l2: { itemId: 'l2', tombstone: true, eventTime: '2026-11-22T08:00:00.000Z', fields: { loan_id: 'l2', user_id: 'PAT0042X' } },
    });
    expect(fees.get('f1')).toEqual({
      itemId: 'f1',
      tombstone: false,
      eventTime: '2026-11-21T10:15:03.120Z',
      fields: { id: 'f1', balance: 2.5, user_primary_id: { value: 'PAT0042X' } },
    });
  });
});

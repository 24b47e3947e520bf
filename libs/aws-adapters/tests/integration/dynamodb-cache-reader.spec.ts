import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ItemRecord } from '@alma-cache/cache-domain';
import { createDocumentClient, DynamoDbCacheReader, DynamoDbCacheStore } from '../../src';
import { BATCH_GET_MAX_KEYS, CacheReadIncompleteError } from '../../src/lib/dynamodb-cache-reader';
import { countingDocumentClient, createCacheTables } from '../../src/testing';

const record = (overrides: Partial<ItemRecord> & Pick<ItemRecord, 'kind' | 'itemId' | 'fields'>): ItemRecord => ({
  userPrimaryId: 'PAT0042X',
  eventId: 'e1',
  eventType: 'LOAN_CREATED',
  eventTime: '2026-11-21T10:15:03.120Z',
  tombstone: false,
  expiresAt: 1_900_000_000,
  ...overrides,
});

// Records are written by the real DynamoDbCacheStore, so these tests hold the reader to what the writers store.
describe('Class: DynamoDbCacheReader', () => {
  const client = createDocumentClient();
  let tables: Awaited<ReturnType<typeof createCacheTables>>;
  let store: DynamoDbCacheStore;
  let reader: DynamoDbCacheReader;

  beforeAll(async () => {
    tables = await createCacheTables();
    store = new DynamoDbCacheStore(client, tables);
    reader = new DynamoDbCacheReader(client, tables);
  });

  afterAll(() => client.destroy());

  it('reads a refreshed patron: id sets (absent ones empty), refreshed_at and expires_at', async () => {
    // Prepare
    await store.beginUserRefresh('pat-a', 1_900_000_000);
    const none = new Set<string>();
    await store.replaceUser(
      {
        userKey: 'pat-a',
        ids: { loan: new Set(['l1', 'l2']), request: none, fee: new Set(['f1']) },
        removedIds: { loan: new Set(['l0']), request: none, fee: none },
        refreshedAt: '2026-11-21T09:00:00.000Z',
        expiresAt: 1_900_000_123,
      },
      0,
    );

    // Act
    const patron = await reader.readUser('pat-a');

    // Assess
    expect(patron).toEqual({
      userKey: 'pat-a',
      ids: { loan: new Set(['l1', 'l2']), request: new Set(), fee: new Set(['f1']) },
      refreshedAt: '2026-11-21T09:00:00.000Z',
      expiresAt: 1_900_000_123,
    });
  });

  it('reads the placeholder of a first refresh without refreshed_at, and nothing for an unknown patron', async () => {
    // Prepare
    await store.beginUserRefresh('pat-b', 1_900_000_000);

    // Act
    const [placeholder, unknown] = await Promise.all([reader.readUser('pat-b'), reader.readUser('nobody')]);

    // Assess
    expect(placeholder).toEqual({ userKey: 'pat-b', ids: { loan: new Set(), request: new Set(), fee: new Set() }, expiresAt: 1_900_000_000 });
    expect(unknown).toBeUndefined();
  });

  it("reads a record back as Alma sent it, the cache's attributes apart, and a fee without its synthetic fee_id", async () => {
    // Prepare
    const fields = { id: 'f-1', user_primary_id: { value: 'PAT0042X', link: 'https://…' }, balance: 3.5, comment: null };
    await store.writeItem(record({ kind: 'fee', itemId: 'f-1', fields, eventType: 'REFRESH' }));
    await store.writeItem(record({ kind: 'loan', itemId: 'l-1', fields: { loan_id: 'l-1', user_id: 'PAT0042X' } }));

    // Act
    const [fee, loan, missing] = await Promise.all([
      reader.readItem('fee', 'f-1'),
      reader.readItem('loan', 'l-1'),
      reader.readItem('request', 'r-x'),
    ]);

    // Assess
    expect(fee).toEqual({ kind: 'fee', itemId: 'f-1', tombstone: false, expiresAt: 1_900_000_000, fields });
    expect(loan).toEqual({
      kind: 'loan',
      itemId: 'l-1',
      tombstone: false,
      expiresAt: 1_900_000_000,
      fields: { loan_id: 'l-1', user_id: 'PAT0042X' },
    });
    expect(missing).toBeUndefined();
  });

  it("reads a tombstone as one (its key is Alma's request_id, so it stays a field)", async () => {
    // Prepare
    await store.writeItem(record({ kind: 'request', itemId: 'r-1', tombstone: true, fields: { user_primary_id: 'PAT0042X' } }));

    // Act
    const tombstone = await reader.readItem('request', 'r-1');

    // Assess
    expect(tombstone).toEqual({
      kind: 'request',
      itemId: 'r-1',
      tombstone: true,
      expiresAt: 1_900_000_000,
      fields: { request_id: 'r-1', user_primary_id: 'PAT0042X' },
    });
  });

  it('reads 250 records in 3 BatchGetItem requests of at most 100 keys, leaving out ids the cache does not hold', async () => {
    // Prepare
    const ids = Array.from({ length: 250 }, (_, index) => `bulk-${String(index).padStart(3, '0')}`);
    for (const id of ids) await store.writeItem(record({ kind: 'loan', itemId: id, fields: { loan_id: id } }));
    const counting = countingDocumentClient();
    const countingReader = new DynamoDbCacheReader(counting.client, tables);

    // Act
    const found = await countingReader.readItems('loan', [...ids, 'not-cached', ids[0]]);

    // Assess
    expect([...found.keys()].sort()).toEqual(ids);
    expect(found.get('bulk-042')?.fields).toEqual({ loan_id: 'bulk-042' });
    expect(counting.requests.map((request) => request.command)).toEqual(['BatchGetItemCommand', 'BatchGetItemCommand', 'BatchGetItemCommand']);
    counting.client.destroy();
  });

  it('sends no request for an empty set', async () => {
    // Prepare
    const counting = countingDocumentClient();

    // Act
    const found = await new DynamoDbCacheReader(counting.client, tables).readItems('fee', new Set());

    // Assess
    expect(found.size).toBe(0);
    expect(counting.requests).toEqual([]);
    counting.client.destroy();
  });

  describe('with DynamoDB returning unprocessed keys', () => {
    /** A client that answers each BatchGetItem with the first `served` keys and returns the rest unprocessed. */
    const partialClient = (served: number) => {
      const requests: number[] = [];
      const send = async (command: BatchGetCommand) => {
        const [[table, { Keys }]] = Object.entries(command.input.RequestItems!) as [string, { Keys: Record<string, string>[] }][];
        requests.push(Keys.length);
        return {
          Responses: { [table]: Keys.slice(0, served).map((key) => ({ ...key, expires_at: 1_900_000_000 })) },
          UnprocessedKeys: Keys.length > served ? { [table]: { Keys: Keys.slice(served) } } : {},
        };
      };
      return { client: { send } as unknown as DynamoDBDocumentClient, requests };
    };

    it('asks again for the unprocessed keys until all are read', async () => {
      // Prepare
      const { client: partial, requests } = partialClient(40);
      const sleeps: number[] = [];
      const patient = new DynamoDbCacheReader(partial, tables, { sleep: async (ms) => void sleeps.push(ms), maxBatchAttempts: 5 });

      // Act
      const found = await patient.readItems(
        'request',
        Array.from({ length: BATCH_GET_MAX_KEYS }, (_, index) => `r${index}`),
      );

      // Assess
      expect(found.size).toBe(100);
      expect(requests).toEqual([100, 60, 20]);
      expect(sleeps).toHaveLength(2);
    });

    it('fails rather than answer with records missing when DynamoDB keeps them back', async () => {
      // Prepare
      const { client: partial, requests } = partialClient(0);
      const impatient = new DynamoDbCacheReader(partial, tables, { sleep: async () => undefined, maxBatchAttempts: 3 });

      // Act
      const act = impatient.readItems('loan', ['a', 'b']);

      // Assess
      await expect(act).rejects.toThrow(CacheReadIncompleteError);
      await expect(act).rejects.toThrow(`DynamoDB left 2 key(s) of table ${tables.loans} unprocessed after 3 BatchGetItem attempts`);
      expect(requests).toEqual([2, 2, 2]);
    });
  });
});

import { BatchGetCommand, type BatchGetCommandOutput, type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { type CacheReader, type CachedItem, ITEM_SHAPES, type ItemKind } from '@alma-cache/cache-domain';
import { CACHE_ATTRIBUTES, ITEM_TABLES, USER_KEY, userRowOf } from './table-schema';

/** The tables the query API reads: the Users table and all three kinds of record. */
export interface CacheReaderTableNames {
  readonly users: string;
  readonly loans: string;
  readonly requests: string;
  readonly fees: string;
}

/** How {@link DynamoDbCacheReader} copes with DynamoDB handing back part of a batch. */
export interface DynamoDbCacheReaderOptions {
  /** BatchGetItem calls per chunk, the first included, before giving up on keys DynamoDB keeps returning. Default 5. */
  readonly maxBatchAttempts?: number;
  /** Full-jitter window after the first partial answer; it doubles per attempt. Default 50 ms. */
  readonly backoffBaseMs?: number;
  /** Chunks of 100 keys read at once. Default 4. */
  readonly maxParallelChunks?: number;
  /** For tests. Default a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** DynamoDB's limit of keys per BatchGetItem request. */
export const BATCH_GET_MAX_KEYS = 100;

/** DynamoDB kept returning some keys as unprocessed (throttling): the answer would be partial, so there is none. */
export class CacheReadIncompleteError extends Error {
  public constructor(
    public readonly table: string,
    public readonly unprocessed: number,
    attempts: number,
  ) {
    super(`DynamoDB left ${unprocessed} key(s) of table ${table} unprocessed after ${attempts} BatchGetItem attempts`);
    this.name = 'CacheReadIncompleteError';
  }
}

/** Attributes the cache adds to a record, which are not Alma's and are not served. */
const ADDED_ATTRIBUTES: readonly string[] = [
  CACHE_ATTRIBUTES.eventId,
  CACHE_ATTRIBUTES.eventType,
  CACHE_ATTRIBUTES.eventTime,
  CACHE_ATTRIBUTES.expiresAt,
  CACHE_ATTRIBUTES.tombstone,
];

type Item = Record<string, unknown>;

/**
 * The CacheReader on DynamoDB: the read side of {@link DynamoDbCacheStore}'s records. Reads are eventually
 * consistent (half the read units; a second-old answer is fine for a query). A patron's records are read with
 * BatchGetItem in chunks of 100 keys; keys DynamoDB returns unprocessed are asked for again with backoff, and a
 * chunk that still comes back partial fails the read rather than answering with records missing.
 *
 * A record is read back as Alma sent it: the attributes the cache adds (`alma_event_*`, `expires_at`, `tombstone`)
 * are taken out, as is a table key Alma does not use (a fee's `fee_id`: Alma calls it `id`).
 *
 * @example
 * const reader = new DynamoDbCacheReader(createDocumentClient(), { users: 'Users', loans: 'Loans', requests: 'Requests', fees: 'Fees' });
 * const user = await reader.readUser('pat0042x');
 * const loans = await reader.readItems('loan', user?.ids.loan ?? []);
 */
export class DynamoDbCacheReader implements CacheReader {
  private readonly maxBatchAttempts: number;
  private readonly backoffBaseMs: number;
  private readonly maxParallelChunks: number;
  private readonly sleep: (ms: number) => Promise<void>;

  public constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: CacheReaderTableNames,
    options: DynamoDbCacheReaderOptions = {},
  ) {
    this.maxBatchAttempts = options.maxBatchAttempts ?? 5;
    this.backoffBaseMs = options.backoffBaseMs ?? 50;
    this.maxParallelChunks = options.maxParallelChunks ?? 4;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  public async readUser(userKey: string): ReturnType<CacheReader['readUser']> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tables.users, Key: { [USER_KEY]: userKey } }));
    if (!Item) return undefined;
    // The port's fields only: the query API has no use for the writers' version and removed ids.
    const { ids, refreshedAt, expiresAt } = userRowOf(userKey, Item);
    return {
      userKey,
      ids,
      ...(refreshedAt !== undefined ? { refreshedAt } : {}),
      ...(expiresAt !== undefined ? { expiresAt } : {}),
    };
  }

  public async readItem(kind: ItemKind, itemId: string): Promise<CachedItem | undefined> {
    const { keyAttribute } = ITEM_TABLES[kind];
    const { Item } = await this.client.send(new GetCommand({ TableName: this.itemTable(kind), Key: { [keyAttribute]: itemId } }));
    return Item ? toCachedItem(kind, Item) : undefined;
  }

  public async readItems(kind: ItemKind, itemIds: Iterable<string>): Promise<ReadonlyMap<string, CachedItem>> {
    const ids = [...new Set(itemIds)];
    const chunks: string[][] = [];
    for (let start = 0; start < ids.length; start += BATCH_GET_MAX_KEYS) chunks.push(ids.slice(start, start + BATCH_GET_MAX_KEYS));
    const found = new Map<string, CachedItem>();
    let next = 0;
    const worker = async () => {
      while (next < chunks.length) {
        for (const item of await this.readChunk(kind, chunks[next++])) found.set(item.itemId, item);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.maxParallelChunks, chunks.length) }, worker));
    return found;
  }

  private async readChunk(kind: ItemKind, ids: readonly string[]): Promise<CachedItem[]> {
    const table = this.itemTable(kind);
    const { keyAttribute } = ITEM_TABLES[kind];
    const items: CachedItem[] = [];
    let keys: Item[] = ids.map((id) => ({ [keyAttribute]: id }));
    for (let attempt = 1; ; attempt += 1) {
      const output: BatchGetCommandOutput = await this.client.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: keys } } }));
      for (const item of output.Responses?.[table] ?? []) items.push(toCachedItem(kind, item));
      keys = (output.UnprocessedKeys?.[table]?.Keys ?? []) as Item[];
      if (keys.length === 0) return items;
      if (attempt >= this.maxBatchAttempts) throw new CacheReadIncompleteError(table, keys.length, attempt);
      // Unprocessed keys mean the table is throttling: back off as the SDK's own retries do.
      await this.sleep(Math.floor(Math.random() * this.backoffBaseMs * 2 ** (attempt - 1)));
    }
  }

  private itemTable(kind: ItemKind): string {
    return this.tables[ITEM_TABLES[kind].role];
  }
}

/** A stored record as the domain reads it: Alma's fields, and what the cache says about them apart. */
const toCachedItem = (kind: ItemKind, item: Item): CachedItem => {
  const { keyAttribute } = ITEM_TABLES[kind];
  const { idField } = ITEM_SHAPES[kind];
  const fields: Item = { ...item };
  for (const name of ADDED_ATTRIBUTES) delete fields[name];
  if (keyAttribute !== idField) delete fields[keyAttribute];
  const expiresAt = item[CACHE_ATTRIBUTES.expiresAt];
  return {
    kind,
    itemId: String(item[keyAttribute]),
    tombstone: item[CACHE_ATTRIBUTES.tombstone] === true,
    ...(typeof expiresAt === 'number' ? { expiresAt } : {}),
    fields,
  };
};

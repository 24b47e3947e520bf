import { BatchGetCommand, type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { type AuditedRecord, type CacheAuditReader, ITEM_SHAPES, type ItemKind } from '@alma-cache/cache-domain';
import { BATCH_GET_MAX_KEYS, type CacheReaderTableNames, CacheReadIncompleteError } from './dynamodb-cache-reader';
import { CACHE_ATTRIBUTES, ITEM_TABLES, USER_KEY } from './table-schema';

/** How {@link DynamoDbCacheAuditReader} samples and reads. */
export interface DynamoDbCacheAuditReaderOptions {
  /** Segments the Users table is cut into for the random start (a parallel scan's `TotalSegments`). Default 64. */
  readonly totalSegments?: number;
  /** A number in [0, 1), for tests. Default `Math.random`. */
  readonly random?: () => number;
  /** BatchGetItem calls per chunk before keys DynamoDB keeps returning unprocessed fail the read. Default 5. */
  readonly maxBatchAttempts?: number;
}

type Item = Record<string, unknown>;

/** Attributes the cache adds to a record beside Alma's fields: not compared with Alma. */
const ADDED_ATTRIBUTES: readonly string[] = [
  CACHE_ATTRIBUTES.eventId,
  CACHE_ATTRIBUTES.eventType,
  CACHE_ATTRIBUTES.eventTime,
  CACHE_ATTRIBUTES.expiresAt,
  CACHE_ATTRIBUTES.tombstone,
];

/**
 * The drift audit's reads on DynamoDB.
 *
 * The sample: the Users table is cut into `totalSegments` segments of its key hash space (a parallel scan's segments);
 * the scan starts at the start of a segment picked uniformly at random and reads on, segment after segment (wrapping
 * round), until it has `size` patrons with `refreshed_at`. So the start is random; the patrons after it are the next
 * ones in DynamoDB's hash order, which has nothing to do with their ids, their age or their activity. Two runs overlap
 * only when they pick the same or neighbouring segments, and over many runs every patron is about equally likely to be
 * audited (as likely as its segment's share of the table). It costs the read units of the rows it passes over, no more:
 * each page asks for the patrons still wanted (at least 25), with only the key projected.
 *
 * The records: BatchGetItem, strongly consistent (the audit compares with a live Alma, not a second-old copy), chunks of
 * 100 keys, keys DynamoDB returns unprocessed asked for again; a chunk still partial fails the read.
 *
 * @example
 * const reader = new DynamoDbCacheAuditReader(client, { users, loans, requests, fees });
 * const keys = await reader.samplePatrons(50);
 */
export class DynamoDbCacheAuditReader implements CacheAuditReader {
  private readonly totalSegments: number;
  private readonly random: () => number;
  private readonly maxBatchAttempts: number;

  public constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: CacheReaderTableNames,
    options: DynamoDbCacheAuditReaderOptions = {},
  ) {
    this.totalSegments = options.totalSegments ?? 64;
    this.random = options.random ?? Math.random;
    this.maxBatchAttempts = options.maxBatchAttempts ?? 5;
  }

  public async samplePatrons(size: number): Promise<readonly string[]> {
    const sample: string[] = [];
    const first = Math.floor(this.random() * this.totalSegments);
    for (let step = 0; step < this.totalSegments && sample.length < size; step++) {
      const segment = (first + step) % this.totalSegments;
      let startKey: Item | undefined;
      do {
        const page = await this.client.send(
          new ScanCommand({
            TableName: this.tables.users,
            Segment: segment,
            TotalSegments: this.totalSegments,
            ProjectionExpression: '#key',
            // Only patrons whose first refresh completed: a placeholder has nothing to hold to Alma yet.
            FilterExpression: 'attribute_exists(#refreshed)',
            ExpressionAttributeNames: { '#key': USER_KEY, '#refreshed': CACHE_ATTRIBUTES.refreshedAt },
            Limit: Math.max(25, size - sample.length),
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of page.Items ?? []) if (sample.length < size) sample.push(String(item[USER_KEY]));
        startKey = page.LastEvaluatedKey;
      } while (startKey !== undefined && sample.length < size);
    }
    return sample;
  }

  public async readRecords(kind: ItemKind, itemIds: Iterable<string>): Promise<ReadonlyMap<string, AuditedRecord>> {
    const ids = [...new Set(itemIds)];
    const table = this.tables[ITEM_TABLES[kind].role];
    const { keyAttribute } = ITEM_TABLES[kind];
    const found = new Map<string, AuditedRecord>();
    for (let start = 0; start < ids.length; start += BATCH_GET_MAX_KEYS) {
      let keys: Item[] = ids.slice(start, start + BATCH_GET_MAX_KEYS).map((id) => ({ [keyAttribute]: id }));
      for (let attempt = 1; keys.length > 0; attempt++) {
        if (attempt > this.maxBatchAttempts) throw new CacheReadIncompleteError(table, keys.length, attempt - 1);
        const output = await this.client.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }));
        for (const item of output.Responses?.[table] ?? []) {
          const record = auditedRecordOf(kind, item);
          found.set(record.itemId, record);
        }
        keys = (output.UnprocessedKeys?.[table]?.Keys ?? []) as Item[];
        // Unprocessed keys mean the table is throttling: a short pause, doubling, before asking again.
        if (keys.length > 0) await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt));
      }
    }
    return found;
  }
}

/** A stored record as the audit compares it: Alma's fields apart from what the cache adds. */
const auditedRecordOf = (kind: ItemKind, item: Item): AuditedRecord => {
  const { keyAttribute } = ITEM_TABLES[kind];
  const fields: Item = { ...item };
  for (const name of ADDED_ATTRIBUTES) delete fields[name];
  if (keyAttribute !== ITEM_SHAPES[kind].idField) delete fields[keyAttribute];
  const eventTime = item[CACHE_ATTRIBUTES.eventTime];
  return {
    itemId: String(item[keyAttribute]),
    tombstone: item[CACHE_ATTRIBUTES.tombstone] === true,
    ...(typeof eventTime === 'string' ? { eventTime } : {}),
    fields,
  };
};

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  type CacheStore,
  ITEM_SHAPES,
  type ItemKind,
  type ItemRecord,
  type LinkResult,
  type RefreshClaim,
  type WriteResult,
} from '@alma-cache/cache-domain';

/** The DynamoDB tables behind the cache, by role. */
export interface CacheTableNames {
  readonly users: string;
  readonly loans: string;
  readonly requests: string;
  readonly refreshClaims: string;
}

/**
 * Attributes the cache adds to each Alma record. `expires_at` is the tables' TTL attribute.
 * Names are snake_case like Alma's own fields, so consumers read one style.
 */
export const CACHE_ATTRIBUTES = {
  eventId: 'alma_event_id',
  eventType: 'alma_event_type',
  eventTime: 'alma_event_time',
  expiresAt: 'expires_at',
  tombstone: 'tombstone',
} as const;

const A = CACHE_ATTRIBUTES;

/**
 * The CacheStore on DynamoDB. Every method is a single conditional PutItem or UpdateItem: no reads, no
 * transactions, so an event on the common path costs two write requests. Patron id sets are string sets changed
 * with ADD/DELETE, atomic on the server, so concurrent events for one patron never lose each other's ids.
 *
 * @example
 * const store = new DynamoDbCacheStore(createDocumentClient(), { users: 'Users', loans: 'Loans', … });
 */
export class DynamoDbCacheStore implements CacheStore {
  public constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: CacheTableNames,
  ) {}

  public async writeItem(record: ItemRecord): Promise<WriteResult> {
    const { idField } = ITEM_SHAPES[record.kind];
    // Newer time wins; the same event may land again; on a tie a tombstone beats a live record. A record
    // without an event time (written by an older stack) is always superseded.
    const tieBreak = record.tombstone ? '(#id = :id OR attribute_not_exists(#tombstone))' : '#id = :id';
    const failure = await this.conditionally(
      new PutCommand({
        TableName: this.itemTable(record.kind),
        Item: {
          ...record.fields,
          [idField]: record.itemId,
          [A.eventId]: record.eventId,
          [A.eventType]: record.eventType,
          [A.eventTime]: record.eventTime,
          [A.expiresAt]: record.expiresAt,
          ...(record.tombstone ? { [A.tombstone]: true } : {}),
        },
        ConditionExpression: `attribute_not_exists(#time) OR #time < :time OR (#time = :time AND ${tieBreak})`,
        ExpressionAttributeNames: {
          '#time': A.eventTime,
          '#id': A.eventId,
          ...(record.tombstone ? { '#tombstone': A.tombstone } : {}),
        },
        ExpressionAttributeValues: { ':time': record.eventTime, ':id': record.eventId },
      }),
    );
    return failure ? 'stale' : 'written';
  }

  public async linkItem(userKey: string, kind: ItemKind, itemId: string): Promise<LinkResult> {
    const { userIdsAttribute, removedIdsAttribute } = ITEM_SHAPES[kind];
    const failure = await this.conditionally(
      new UpdateCommand({
        TableName: this.tables.users,
        Key: { primary_id: userKey },
        UpdateExpression: 'ADD #ids :ids',
        ConditionExpression: 'attribute_exists(primary_id) AND NOT contains(#removed, :id)',
        ExpressionAttributeNames: { '#ids': userIdsAttribute, '#removed': removedIdsAttribute },
        ExpressionAttributeValues: { ':ids': new Set([itemId]), ':id': itemId },
        // Tells the two reasons apart on the rare failure path without a read.
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    if (!failure) return 'updated';
    return failure.Item ? 'item-removed' : 'user-not-cached';
  }

  public async unlinkItem(userKey: string, kind: ItemKind, itemId: string): Promise<Exclude<LinkResult, 'item-removed'>> {
    const { userIdsAttribute, removedIdsAttribute } = ITEM_SHAPES[kind];
    const failure = await this.conditionally(
      new UpdateCommand({
        TableName: this.tables.users,
        Key: { primary_id: userKey },
        UpdateExpression: 'DELETE #ids :ids ADD #removed :ids',
        ConditionExpression: 'attribute_exists(primary_id)',
        ExpressionAttributeNames: { '#ids': userIdsAttribute, '#removed': removedIdsAttribute },
        ExpressionAttributeValues: { ':ids': new Set([itemId]) },
      }),
    );
    return failure ? 'user-not-cached' : 'updated';
  }

  public async claimUserRefresh(claim: RefreshClaim): Promise<boolean> {
    const failure = await this.conditionally(
      new PutCommand({
        TableName: this.tables.refreshClaims,
        Item: { primary_id: claim.userKey, claimant: claim.claimant, [A.expiresAt]: claim.untilSeconds },
        // TTL deletes lazily (hours late), so an expired claim is recognised by its time, not its absence.
        ConditionExpression: 'attribute_not_exists(primary_id) OR #expires <= :now OR claimant = :claimant',
        ExpressionAttributeNames: { '#expires': A.expiresAt },
        ExpressionAttributeValues: { ':now': claim.nowSeconds, ':claimant': claim.claimant },
      }),
    );
    return !failure;
  }

  private itemTable(kind: ItemKind): string {
    return kind === 'loan' ? this.tables.loans : this.tables.requests;
  }

  /**
   * Sends a conditional write: undefined when it was applied, the condition failure when it was not. Every other
   * error propagates (to be retried).
   */
  private async conditionally(command: PutCommand | UpdateCommand): Promise<ConditionalCheckFailedException | undefined> {
    try {
      await this.client.send(command as PutCommand);
      return undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return error;
      throw error;
    }
  }
}

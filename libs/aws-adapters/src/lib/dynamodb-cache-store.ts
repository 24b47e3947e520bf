import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  CLAIM_RETRY_AFTER_SECONDS,
  type CacheStore,
  type CachedUser,
  ITEM_KINDS,
  type ItemKind,
  type ItemRecord,
  recordOwner,
  userCacheKey,
  type LinkResult,
  type RefreshClaim,
  type UserSnapshot,
  type WriteResult,
} from '@alma-cache/cache-domain';
import { CACHE_ATTRIBUTES, type CacheTableNames, CLAIM_ATTRIBUTES, ITEM_TABLES, USER_KEY, userRowOf } from './table-schema';

const A = CACHE_ATTRIBUTES;
const C = CLAIM_ATTRIBUTES;

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
    const { keyAttribute } = ITEM_TABLES[record.kind];
    // Newer time wins; the same event may land again; on a tie a tombstone beats a live record. A record
    // without an event time (written by an older stack) is always superseded.
    const tieBreak = record.tombstone ? '(#id = :id OR attribute_not_exists(#tombstone))' : '#id = :id';
    const owner = record.onlyOwnedBy === undefined ? undefined : await this.ownerGuard(record, record.onlyOwnedBy);
    if (owner === 'another-patron') return 'stale';
    const put = new PutCommand({
      TableName: this.itemTable(record.kind),
      Item: {
        ...record.fields,
        [keyAttribute]: record.itemId,
        [A.eventId]: record.eventId,
        [A.eventType]: record.eventType,
        [A.eventTime]: record.eventTime,
        [A.expiresAt]: record.expiresAt,
        ...(record.tombstone ? { [A.tombstone]: true } : {}),
      },
      ConditionExpression:
        `(attribute_not_exists(#time) OR #time < :time OR (#time = :time AND ${tieBreak}))` + (owner ? ` AND ${owner.condition}` : ''),
      ExpressionAttributeNames: {
        '#time': A.eventTime,
        '#id': A.eventId,
        ...(record.tombstone ? { '#tombstone': A.tombstone } : {}),
        ...owner?.names,
      },
      ExpressionAttributeValues: { ':time': record.eventTime, ':id': record.eventId, ...owner?.values },
      // The replaced version comes back in the same response, at no extra capacity: a redelivery is told apart
      // from a new version without a read.
      ReturnValues: 'ALL_OLD',
    });
    try {
      const { Attributes: replaced } = await this.client.send(put);
      return replaced?.[A.eventId] === record.eventId ? 'duplicate' : 'written';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'stale';
      throw error;
    }
  }

  /**
   * For a write that may replace only `userKey`'s record: reads the record's owner and event id (strongly consistent),
   * and answers `another-patron`, or the condition that the record is still the one read. Owners are compared
   * case-insensitively (`userCacheKey`), which no condition expression can do; the condition on the event id read keeps
   * read and write one step: a version landing in between fails the write (`stale`).
   */
  private async ownerGuard(
    record: ItemRecord,
    userKey: string,
  ): Promise<'another-patron' | { condition: string; names: Record<string, string>; values: Record<string, unknown> }> {
    const { keyAttribute } = ITEM_TABLES[record.kind];
    const { Item: current } = await this.client.send(
      new GetCommand({ TableName: this.itemTable(record.kind), Key: { [keyAttribute]: record.itemId }, ConsistentRead: true }),
    );
    if (!current) {
      return { condition: 'attribute_not_exists(#key)', names: { '#key': keyAttribute }, values: {} };
    }
    const owner = recordOwner(record.kind, current);
    if (owner !== undefined && userCacheKey(owner) !== userKey) return 'another-patron' as const;
    return current[A.eventId] === undefined
      ? { condition: 'attribute_not_exists(#id)', names: {}, values: {} }
      : { condition: '#id = :seenId', names: {}, values: { ':seenId': current[A.eventId] } };
  }

  public async linkItem(userKey: string, kind: ItemKind, itemId: string): Promise<LinkResult> {
    const { userIdsAttribute, removedIdsAttribute } = ITEM_TABLES[kind];
    const failure = await this.conditionally(
      new UpdateCommand({
        TableName: this.tables.users,
        Key: { [USER_KEY]: userKey },
        UpdateExpression: 'ADD #ids :ids, #version :one',
        ConditionExpression: `attribute_exists(${USER_KEY}) AND NOT contains(#removed, :id)`,
        ExpressionAttributeNames: { '#ids': userIdsAttribute, '#removed': removedIdsAttribute, '#version': A.userVersion },
        ExpressionAttributeValues: { ':ids': new Set([itemId]), ':id': itemId, ':one': 1 },
        // Tells the two reasons apart on the rare failure path without a read.
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    if (!failure) return 'updated';
    return failure.Item ? 'item-removed' : 'user-not-cached';
  }

  public async unlinkItem(userKey: string, kind: ItemKind, itemId: string): Promise<Exclude<LinkResult, 'item-removed'>> {
    const { userIdsAttribute, removedIdsAttribute } = ITEM_TABLES[kind];
    const failure = await this.conditionally(
      new UpdateCommand({
        TableName: this.tables.users,
        Key: { [USER_KEY]: userKey },
        UpdateExpression: 'DELETE #ids :ids ADD #removed :ids, #version :one',
        ConditionExpression: `attribute_exists(${USER_KEY})`,
        ExpressionAttributeNames: { '#ids': userIdsAttribute, '#removed': removedIdsAttribute, '#version': A.userVersion },
        ExpressionAttributeValues: { ':ids': new Set([itemId]), ':one': 1 },
      }),
    );
    return failure ? 'user-not-cached' : 'updated';
  }

  public async claimUserRefresh(claim: RefreshClaim): Promise<boolean> {
    const failure = await this.conditionally(
      new PutCommand({
        TableName: this.table('refreshClaims'),
        Item: { [USER_KEY]: claim.userKey, [C.claimant]: claim.claimant, [A.expiresAt]: claim.untilSeconds, [C.claimedAt]: claim.nowSeconds },
        // TTL deletes lazily (hours late), so an expired claim is recognised by its time, not its absence. The same
        // claimant may claim again only while its request is unsent and not at once: a retry after a failed send, not a
        // redelivery nor a copy handled beside the first. A claim written before claimed_at existed counts as old.
        ConditionExpression:
          `attribute_not_exists(${USER_KEY}) OR #expires <= :now OR ` +
          `(${C.claimant} = :claimant AND attribute_not_exists(#sent) AND (attribute_not_exists(#claimedAt) OR #claimedAt <= :retryFrom))`,
        ExpressionAttributeNames: { '#expires': A.expiresAt, '#sent': C.sent, '#claimedAt': C.claimedAt },
        ExpressionAttributeValues: {
          ':now': claim.nowSeconds,
          ':claimant': claim.claimant,
          ':retryFrom': claim.nowSeconds - CLAIM_RETRY_AFTER_SECONDS,
        },
      }),
    );
    return !failure;
  }

  public async markRefreshSent(userKey: string, claimant: string): Promise<void> {
    await this.conditionally(
      new UpdateCommand({
        TableName: this.table('refreshClaims'),
        Key: { [USER_KEY]: userKey },
        UpdateExpression: 'SET #sent = :true',
        // Someone else's claim (this one expired and was taken) is theirs to mark.
        ConditionExpression: `${C.claimant} = :claimant`,
        ExpressionAttributeNames: { '#sent': C.sent },
        ExpressionAttributeValues: { ':claimant': claimant, ':true': true },
      }),
    );
  }

  public async noteRefreshWanted(userKey: string, nowSeconds: number): Promise<boolean> {
    const refused = await this.conditionally(
      new UpdateCommand({
        TableName: this.table('refreshClaims'),
        Key: { [USER_KEY]: userKey },
        UpdateExpression: 'SET #wanted = :true',
        ConditionExpression: `attribute_exists(${USER_KEY}) AND #expires > :now`,
        ExpressionAttributeNames: { '#wanted': C.wanted, '#expires': A.expiresAt },
        ExpressionAttributeValues: { ':true': true, ':now': nowSeconds },
      }),
    );
    return refused === undefined;
  }

  public async releaseUserRefresh(userKey: string, claimant: string, expiredAt: number, evenIfWanted = false): Promise<boolean> {
    const refused = await this.conditionally(
      new UpdateCommand({
        TableName: this.table('refreshClaims'),
        Key: { [USER_KEY]: userKey },
        UpdateExpression: 'SET #expires = :expiredAt',
        // A claim whose request went out is the queue's to run; someone else's claim is theirs; a claim a refresh was
        // coalesced into is kept for the caller to queue it.
        ConditionExpression: `${C.claimant} = :claimant AND attribute_not_exists(#sent)${evenIfWanted ? '' : ' AND attribute_not_exists(#wanted)'}`,
        ExpressionAttributeNames: { '#expires': A.expiresAt, '#sent': C.sent, ...(evenIfWanted ? {} : { '#wanted': C.wanted }) },
        ExpressionAttributeValues: { ':claimant': claimant, ':expiredAt': expiredAt },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    const held = refused?.Item;
    return held !== undefined && held[C.claimant]?.S === claimant && held[C.sent] === undefined && held[C.wanted] !== undefined;
  }

  public async abandonUserRefresh(userKey: string): Promise<boolean> {
    const refused = await this.conditionally(
      new DeleteCommand({
        TableName: this.tables.users,
        Key: { [USER_KEY]: userKey },
        ConditionExpression: `attribute_exists(${USER_KEY}) AND attribute_not_exists(#refreshed) AND #version = :zero`,
        ExpressionAttributeNames: { '#refreshed': A.refreshedAt, '#version': A.userVersion },
        ExpressionAttributeValues: { ':zero': 0 },
      }),
    );
    if (refused === undefined) return false;
    // Refused: not cached, refreshed, or a webhook's link moved the version. Ids only grow a version, never undo it.
    const user = await this.readUser(userKey);
    return user !== undefined && user.refreshedAt === undefined && user.version > 0;
  }

  public async beginUserRefresh(userKey: string, expiresAt: number): Promise<void> {
    await this.conditionally(
      new PutCommand({
        TableName: this.tables.users,
        Item: { [USER_KEY]: userKey, [A.userVersion]: 0, [A.expiresAt]: expiresAt },
        ConditionExpression: `attribute_not_exists(${USER_KEY})`,
      }),
    );
  }

  public async readUser(userKey: string): Promise<CachedUser | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tables.users, Key: { [USER_KEY]: userKey }, ConsistentRead: true }));
    if (!Item) return undefined;
    // expiresAt left out, as the writers' port always has (see CachedUser): a refresh sets its own, and the in-memory
    // store, held to the same contract spec, answers without it.
    const { ids, removedIds, version, refreshedAt } = userRowOf(userKey, Item);
    return { userKey, ids, removedIds, version, ...(refreshedAt !== undefined ? { refreshedAt } : {}) };
  }

  public async replaceUser(snapshot: UserSnapshot, expectedVersion: number): Promise<boolean> {
    const item: Record<string, unknown> = {
      [USER_KEY]: snapshot.userKey,
      [A.userVersion]: expectedVersion + 1,
      [A.refreshedAt]: snapshot.refreshedAt,
      [A.expiresAt]: snapshot.expiresAt,
    };
    for (const kind of ITEM_KINDS) {
      const { userIdsAttribute, removedIdsAttribute } = ITEM_TABLES[kind];
      if (snapshot.ids[kind].size > 0) item[userIdsAttribute] = new Set(snapshot.ids[kind]);
      if (snapshot.removedIds[kind].size > 0) item[removedIdsAttribute] = new Set(snapshot.removedIds[kind]);
    }
    const failure = await this.conditionally(new PutCommand({ TableName: this.tables.users, Item: item, ...this.versionCondition(expectedVersion) }));
    return !failure;
  }

  public async deleteUser(userKey: string, expectedVersion: number): Promise<boolean> {
    const failure = await this.conditionally(
      new DeleteCommand({ TableName: this.tables.users, Key: { [USER_KEY]: userKey }, ...this.versionCondition(expectedVersion) }),
    );
    return !failure;
  }

  /** The record still exists and nobody changed its id sets since it was read at `version`. */
  private versionCondition(version: number) {
    return {
      // Records written before versions existed have none: that reads as 0.
      ConditionExpression:
        version === 0 ? `attribute_exists(${USER_KEY}) AND (attribute_not_exists(#version) OR #version = :version)` : '#version = :version',
      ExpressionAttributeNames: { '#version': A.userVersion },
      ExpressionAttributeValues: { ':version': version },
    };
  }

  private itemTable(kind: ItemKind): string {
    return this.table(ITEM_TABLES[kind].role);
  }

  private table(role: keyof CacheTableNames): string {
    const name = this.tables[role];
    if (!name) throw new Error(`DynamoDbCacheStore was given no ${role} table name, but this service writes to it`);
    return name;
  }

  /**
   * Sends a conditional write: undefined when it was applied, the condition failure when it was not. Every other
   * error propagates (to be retried).
   */
  private async conditionally(command: PutCommand | UpdateCommand | DeleteCommand): Promise<ConditionalCheckFailedException | undefined> {
    try {
      await this.client.send(command as PutCommand);
      return undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return error;
      throw error;
    }
  }
}

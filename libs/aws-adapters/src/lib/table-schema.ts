import { type CachedUser, ITEM_KINDS, type ItemKind } from '@alma-cache/cache-domain';

/**
 * The storage layout of the cache's DynamoDB tables, in one place: table roles, keys and every attribute name the
 * adapters write beside Alma's own fields. The deploy side of the same keys is each app's serverless.yml (checked by
 * its template spec). The domain reserves these names for the cache (`isCacheAttributeName`); the contract test in
 * tests/unit/table-schema.spec.ts fails when a name here is one the domain would let an Alma record carry.
 */

/**
 * The DynamoDB tables behind the cache, by role. A service names only the tables it uses: the webhook service
 * has no Fees table, the refresh service takes no refresh claims.
 */
export interface CacheTableNames {
  readonly users: string;
  readonly loans: string;
  readonly requests: string;
  readonly fees?: string;
  readonly refreshClaims?: string;
}

/** Key of the Users table and of the refresh-claims table: the patron's cache key (`userCacheKey`). */
export const USER_KEY = 'primary_id';

/**
 * Per kind of record: the table that holds it (its role in {@link CacheTableNames}), that table's key, and the
 * patron's two string sets on the Users item: the ids linked and the ids seen removed (see `CacheStore.linkItem`).
 * Loans and requests are keyed by Alma's own id field; a fee by `fee_id`, since Alma names a fee's id plain `id`.
 *
 * @example
 * const { role, keyAttribute } = ITEM_TABLES.fee; // 'fees', 'fee_id'
 */
export const ITEM_TABLES = {
  loan: { role: 'loans', keyAttribute: 'loan_id', userIdsAttribute: 'loan_ids', removedIdsAttribute: 'removed_loan_ids' },
  request: { role: 'requests', keyAttribute: 'request_id', userIdsAttribute: 'request_ids', removedIdsAttribute: 'removed_request_ids' },
  fee: { role: 'fees', keyAttribute: 'fee_id', userIdsAttribute: 'fee_ids', removedIdsAttribute: 'removed_fee_ids' },
} as const satisfies Record<ItemKind, { role: keyof CacheTableNames; keyAttribute: string; userIdsAttribute: string; removedIdsAttribute: string }>;

/**
 * Attributes the cache adds to each Alma record, and to the Users item. `expires_at` is the tables' TTL attribute.
 * Names are snake_case like Alma's own fields, so consumers read one style.
 */
export const CACHE_ATTRIBUTES = {
  eventId: 'alma_event_id',
  eventType: 'alma_event_type',
  eventTime: 'alma_event_time',
  expiresAt: 'expires_at',
  tombstone: 'tombstone',
  /** On the User: bumped by every id-set change, for the refresh's optimistic write. */
  userVersion: 'user_version',
  /** On the User: when a refresh last completed; absent while the first one runs. */
  refreshedAt: 'refreshed_at',
} as const;

/**
 * A Users item as the domain's {@link CachedUser}: the one decoder of the row, for the store and the query API's reader
 * alike (each answers the fields its port names). An attribute of the wrong type reads as absent.
 *
 * @example
 * const { Item } = await client.send(new GetCommand({ TableName: tables.users, Key: { [USER_KEY]: userKey } }));
 * const user = Item ? userRowOf(userKey, Item) : undefined;
 */
export const userRowOf = (userKey: string, item: Readonly<Record<string, unknown>>): CachedUser => {
  // Empty string sets cannot be stored, so an absent attribute is an empty set.
  const set = (name: string): ReadonlySet<string> => {
    const value = item[name];
    return value instanceof Set ? (value as Set<string>) : new Set();
  };
  const bySet = (attribute: 'userIdsAttribute' | 'removedIdsAttribute') =>
    Object.fromEntries(ITEM_KINDS.map((kind) => [kind, set(ITEM_TABLES[kind][attribute])])) as Record<ItemKind, ReadonlySet<string>>;
  const version = item[CACHE_ATTRIBUTES.userVersion];
  const refreshedAt = item[CACHE_ATTRIBUTES.refreshedAt];
  const expiresAt = item[CACHE_ATTRIBUTES.expiresAt];
  return {
    userKey,
    ids: bySet('userIdsAttribute'),
    removedIds: bySet('removedIdsAttribute'),
    // A row written before versions existed has none: version 0.
    version: typeof version === 'number' ? version : 0,
    ...(typeof refreshedAt === 'string' && refreshedAt !== '' ? { refreshedAt } : {}),
    ...(typeof expiresAt === 'number' ? { expiresAt } : {}),
  };
};

/** The attributes of a refresh claim (keyed by {@link USER_KEY}; `expires_at` is its TTL). */
export const CLAIM_ATTRIBUTES = {
  claimant: 'claimant',
  /** Set once the claimant's refresh request was sent, so a redelivery does not send it again. */
  sent: 'sent',
  /** When the claimant claimed (epoch s): its own unsent claim is granted again only CLAIM_RETRY_AFTER_SECONDS later. */
  claimedAt: 'claimed_at',
  /** Set by a refresh coalesced into the claim: a claimant giving the claim up queues the refresh instead. */
  wanted: 'wanted',
} as const;

/**
 * The Alma guard table (one per stage): key `guard_key`, the last grant of a budget slot `granted_at` (epoch ms), and
 * the TTL attribute `expires_at`. See dynamodb-alma-guard.ts for the kinds of key.
 */
export const ALMA_GUARD_ATTRIBUTES = {
  key: 'guard_key',
  grantedAt: 'granted_at',
  expiresAt: 'expires_at',
} as const;

/**
 * A warm-up backfill's progress on the Alma guard table, item `backfill/<run name>` (dynamodb-backfill-progress.ts):
 * where it is in its list, what the list was, and the lease of the process running it; `expires_at` as above.
 */
export const BACKFILL_PROGRESS_ATTRIBUTES = {
  position: 'position',
  total: 'total',
  source: 'source',
  counts: 'counts',
  owner: 'lease_owner',
  leaseUntil: 'lease_until',
  startedAt: 'started_at',
  updatedAt: 'updated_at',
  finishedAt: 'finished_at',
} as const;

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { type CacheItemTransition, type ItemRecord, WEBHOOK_SHAPES } from '@alma-cache/cache-domain';
import type { DynamoDBRecord } from 'aws-lambda';
import { CACHE_ATTRIBUTES, ITEM_TABLES } from './table-schema';

type Image = Record<string, unknown>;
type StreamedKind = 'loan' | 'request';
type Fail = (reason: string) => never;

// How DynamoDbCacheStore lays out the records whose streams publish changes: the table key, and the Alma field
// that names the patron.
const STREAMED_TABLES = {
  loan: { keyAttribute: ITEM_TABLES.loan.keyAttribute, userField: WEBHOOK_SHAPES.loan.userField },
  request: { keyAttribute: ITEM_TABLES.request.keyAttribute, userField: WEBHOOK_SHAPES.request.userField },
} as const satisfies Record<StreamedKind, { keyAttribute: string; userField: string }>;

const CACHE_ONLY = new Set<string>(Object.values(CACHE_ATTRIBUTES));

// Time to Live deletes as the DynamoDB service; any other principal is a writer removing the item.
const TTL_PRINCIPAL = 'dynamodb.amazonaws.com';

/** A stream record that cannot be read as a write to a Loans or Requests item: never silently skipped. */
export class InvalidStreamRecordError extends Error {
  public constructor(
    public readonly reason: string,
    public readonly sequenceNumber?: string,
  ) {
    super(`DynamoDB stream record ${sequenceNumber ?? '(no sequence number)'}: ${reason}`);
    this.name = 'InvalidStreamRecordError';
  }
}

const kindOfKeys = (keys: Image, fail: Fail): { kind: StreamedKind; itemId: string } => {
  for (const kind of Object.keys(STREAMED_TABLES) as StreamedKind[]) {
    const id = keys[STREAMED_TABLES[kind].keyAttribute];
    if (id === undefined) continue;
    if (typeof id !== 'string' || id === '') fail(`key ${STREAMED_TABLES[kind].keyAttribute} is not a non-empty string`);
    return { kind, itemId: id };
  }
  return fail(`keys ${JSON.stringify(Object.keys(keys))} are not a Loans (loan_id) or Requests (request_id) key`);
};

const recordOf = (kind: StreamedKind, itemId: string, image: Image, which: string, fail: Fail): ItemRecord => {
  const { keyAttribute, userField } = STREAMED_TABLES[kind];
  if (image[keyAttribute] !== itemId) fail(`${which} ${keyAttribute} ${JSON.stringify(image[keyAttribute])} is not the record's key ${itemId}`);
  const userPrimaryId = image[userField];
  if (typeof userPrimaryId !== 'string' || userPrimaryId === '') fail(`${which} has no ${userField} (the patron)`);
  const text = (name: string) => (typeof image[name] === 'string' ? (image[name] as string) : '');
  const expiresAt = image[CACHE_ATTRIBUTES.expiresAt];
  return {
    kind,
    itemId,
    userPrimaryId: userPrimaryId as string,
    eventId: text(CACHE_ATTRIBUTES.eventId),
    eventType: text(CACHE_ATTRIBUTES.eventType),
    eventTime: text(CACHE_ATTRIBUTES.eventTime),
    tombstone: image[CACHE_ATTRIBUTES.tombstone] === true,
    expiresAt: typeof expiresAt === 'number' ? expiresAt : 0,
    fields: Object.fromEntries(Object.entries(image).filter(([name]) => !CACHE_ONLY.has(name))),
  };
};

// The Lambda event's attribute values are the SDK's, typed by another package.
const imageOf = (image: unknown, which: string, fail: Fail): Image | undefined => {
  if (image === undefined) return undefined;
  try {
    return unmarshall(image as Record<string, AttributeValue>);
  } catch (error) {
    return fail(`${which} is not DynamoDB JSON (${(error as Error).message})`);
  }
};

const IMAGES_NEEDED: Readonly<Record<string, { old: boolean; new: boolean }>> = {
  INSERT: { old: false, new: true },
  MODIFY: { old: true, new: true },
  REMOVE: { old: true, new: false },
};

/**
 * Reads one record of a Loans or Requests table stream (view type NEW_AND_OLD_IMAGES) as the versions of the item
 * before and after the write, in the terms of the domain. The table is recognised by its key, so one function can
 * consume both streams.
 *
 * @example
 * const transition = cacheTransitionOf(record); // { before, after, expired }
 * @throws InvalidStreamRecordError naming what is missing: the keys, an image the event needs, the patron
 */
export const cacheTransitionOf = (record: DynamoDBRecord): CacheItemTransition => {
  const sequenceNumber = record.dynamodb?.SequenceNumber;
  const fail: Fail = (reason) => {
    throw new InvalidStreamRecordError(reason, sequenceNumber);
  };
  const stream = record.dynamodb ?? fail('it has no "dynamodb" section');
  const keys = imageOf(stream.Keys, 'Keys', fail);
  if (keys === undefined || Object.keys(keys).length === 0) fail('it has no Keys');
  const { kind, itemId } = kindOfKeys(keys as Image, fail);

  const eventName = String(record.eventName ?? fail('it has no eventName'));
  const needed = IMAGES_NEEDED[eventName] ?? fail(`eventName ${JSON.stringify(eventName)} is not INSERT, MODIFY or REMOVE`);
  const viewHint = `(the stream view type must be NEW_AND_OLD_IMAGES; this one is ${stream.StreamViewType ?? 'not given'})`;
  const image = (present: boolean, raw: unknown, which: 'OldImage' | 'NewImage'): ItemRecord | undefined => {
    if (!present) return undefined;
    const unmarshalled = imageOf(raw, which, fail) ?? fail(`${eventName} without ${which} ${viewHint}`);
    return recordOf(kind, itemId, unmarshalled, which, fail);
  };

  return {
    before: image(needed.old, stream.OldImage, 'OldImage'),
    after: image(needed.new, stream.NewImage, 'NewImage'),
    expired: eventName === 'REMOVE' && record.userIdentity?.type === 'Service' && record.userIdentity.principalId === TTL_PRINCIPAL,
  };
};

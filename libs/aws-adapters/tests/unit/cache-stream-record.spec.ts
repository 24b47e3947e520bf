import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { cacheTransitionOf, InvalidStreamRecordError } from '../../src';

const LOAN = '7391500230004561';

const loanImage = (extra: Record<string, unknown> = {}) => ({
  loan_id: LOAN,
  user_id: 'PAT0042X',
  due_date: '2026-12-05T23:59:00Z',
  place_in_queue: 1,
  alma_event_id: '5500110001',
  alma_event_type: 'LOAN_CREATED',
  alma_event_time: '2026-11-21T10:15:03.120Z',
  expires_at: 1_800_000_000,
  ...extra,
});

type RecordShape = { eventName?: string; keys?: Record<string, unknown>; old?: Record<string, unknown>; new?: Record<string, unknown> };

const streamRecord = ({ eventName = 'MODIFY', keys = { loan_id: LOAN }, ...images }: RecordShape, extra: Partial<DynamoDBRecord> = {}) =>
  ({
    eventID: 'e-1',
    eventName,
    eventSource: 'aws:dynamodb',
    dynamodb: {
      Keys: marshall(keys),
      ...(images.old ? { OldImage: marshall(images.old) } : {}),
      ...(images.new ? { NewImage: marshall(images.new) } : {}),
      SequenceNumber: '100',
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    ...extra,
  }) as DynamoDBRecord;

describe('Function: cacheTransitionOf', () => {
  it('reads a MODIFY as the versions before and after, Alma fields apart from cache attributes', () => {
    // Prepare
    const record = streamRecord({
      old: loanImage(),
      new: loanImage({ due_date: '2026-12-19T23:59:00Z', alma_event_type: 'LOAN_RENEWED', tombstone: true }),
    });

    // Act
    const { before, after, expired } = cacheTransitionOf(record);

    // Assess
    expect(before).toEqual({
      kind: 'loan',
      itemId: LOAN,
      userPrimaryId: 'PAT0042X',
      eventId: '5500110001',
      eventType: 'LOAN_CREATED',
      eventTime: '2026-11-21T10:15:03.120Z',
      tombstone: false,
      expiresAt: 1_800_000_000,
      fields: { loan_id: LOAN, user_id: 'PAT0042X', due_date: '2026-12-05T23:59:00Z', place_in_queue: 1 },
    });
    expect(after).toMatchObject({ eventType: 'LOAN_RENEWED', tombstone: true, fields: { due_date: '2026-12-19T23:59:00Z' } });
    expect(expired).toBe(false);
  });

  it('reads an INSERT into Requests as a request with no version before', () => {
    // Prepare
    const image = { request_id: 'r-1', user_primary_id: 'PAT0042X', request_status: 'NOT_STARTED' };

    // Act
    const transition = cacheTransitionOf(streamRecord({ eventName: 'INSERT', keys: { request_id: 'r-1' }, new: image }));

    // Assess
    expect(transition.before).toBeUndefined();
    expect(transition.after).toMatchObject({ kind: 'request', itemId: 'r-1', userPrimaryId: 'PAT0042X', eventId: '', tombstone: false });
  });

  it('tells a Time to Live deletion from a writer deleting the item', () => {
    // Prepare
    const ttl = { userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' } };

    // Act
    const expired = cacheTransitionOf(streamRecord({ eventName: 'REMOVE', old: loanImage() }, ttl));
    const deleted = cacheTransitionOf(streamRecord({ eventName: 'REMOVE', old: loanImage() }));

    // Assess
    expect(expired).toMatchObject({ after: undefined, expired: true });
    expect(deleted).toMatchObject({ after: undefined, expired: false });
    expect(deleted.before?.itemId).toBe(LOAN);
  });

  it.each([
    ['no dynamodb section', { dynamodb: undefined }, {}, 'it has no "dynamodb" section'],
    ['no keys', {}, { keys: {} }, 'it has no Keys'],
    ['a key of another table', {}, { keys: { fee_id: 'f-1' } }, 'keys ["fee_id"] are not a Loans (loan_id) or Requests (request_id) key'],
    ['an event name it does not know', {}, { eventName: 'TRUNCATE', new: loanImage() }, 'eventName "TRUNCATE" is not INSERT, MODIFY or REMOVE'],
    ['a MODIFY without its old image', {}, { new: loanImage() }, 'MODIFY without OldImage (the stream view type must be NEW_AND_OLD_IMAGES'],
    ['an INSERT without its new image', {}, { eventName: 'INSERT' }, 'INSERT without NewImage'],
    ['an image without the patron', {}, { eventName: 'INSERT', new: loanImage({ user_id: '' }) }, 'NewImage has no user_id (the patron)'],
    [
      'an image that is not DynamoDB JSON',
      { dynamodb: { Keys: marshall({ loan_id: LOAN }), NewImage: { loan_id: { Q: 'x' } }, SequenceNumber: '100' } },
      { eventName: 'INSERT' },
      'NewImage is not DynamoDB JSON',
    ],
    [
      'an image of another item',
      {},
      { eventName: 'INSERT', new: loanImage({ loan_id: 'other' }) },
      'NewImage loan_id "other" is not the record\'s key',
    ],
  ])('refuses a record with %s, naming its sequence number', (_what, extra, shape, reason) => {
    // Prepare
    const record = streamRecord(shape as RecordShape, extra as Partial<DynamoDBRecord>);

    // Act
    const act = () => cacheTransitionOf(record);

    // Assess
    expect(act).toThrow(InvalidStreamRecordError);
    expect(act).toThrow(reason);
  });
});

import { SNSClient } from '@aws-sdk/client-sns';
import { type CacheChange, detectCacheChanges, type ItemRecord } from '@alma-cache/cache-domain';
import { SnsChangePublisher } from '../../src';
import { changeAttributes } from '../../src/lib/sns-change-publisher';
import { createTopic, drainQueue, messageAttributesOf, subscribeQueue } from '../../src/testing';

const request = (status: string, eventId: string, tombstone = false, { itemId = '8812300040004561', place = 2 } = {}): ItemRecord => ({
  kind: 'request',
  itemId,
  userPrimaryId: 'PAT0042X',
  eventId,
  eventType: 'REQUEST_PLACED_ON_SHELF',
  eventTime: '2026-11-25T08:47:19.377Z',
  tombstone,
  expiresAt: 1_800_000_000,
  fields: { request_id: itemId, user_primary_id: 'PAT0042X', request_status: status, title: 'TAOCP', place_in_queue: place },
});

const changeOf = (before: ItemRecord | undefined, after: ItemRecord): CacheChange => detectCacheChanges({ before, after })[0];

const LOAN = '7391500230004561';
const loan: ItemRecord = {
  kind: 'loan',
  itemId: LOAN,
  userPrimaryId: 'PAT0042X',
  eventId: 'l1',
  eventType: 'LOAN_CREATED',
  eventTime: '2026-11-25T08:47:19.377Z',
  tombstone: false,
  expiresAt: 1_800_000_000,
  fields: { loan_id: LOAN, user_id: 'PAT0042X', title: 'TAOCP', loan_status: 'ACTIVE' },
};

describe('Function: changeAttributes', () => {
  it('gives a request the status after the change, for filtering on ON_HOLD_SHELF', () => {
    // Prepare
    const change = changeOf(request('NOT_STARTED', 'e1'), request('ON_HOLD_SHELF', 'e2'));

    // Act
    const attributes = changeAttributes(change);

    // Assess
    expect(attributes).toEqual({
      entity: 'request',
      change: 'request.status-changed',
      patron: 'pat0042x',
      recordId: '8812300040004561',
      source: 'webhook',
      status: 'ON_HOLD_SHELF',
    });
  });

  it('gives a request deleted outright its last status, and a loan no status', () => {
    // Prepare
    const [deleted] = detectCacheChanges({ before: request('ON_HOLD_SHELF', 'e1') });
    const [created] = detectCacheChanges({ after: loan });

    // Act / Assess
    expect(changeAttributes(deleted)['status']).toBe('ON_HOLD_SHELF');
    expect(changeAttributes(created)).toEqual({ entity: 'loan', change: 'loan.created', patron: 'pat0042x', recordId: LOAN, source: 'webhook' });
  });

  it('names the record for updated events too, so a subscriber can follow one record', () => {
    // Prepare
    const update = changeOf(request('NOT_STARTED', 'e1'), request('NOT_STARTED', 'e2', false, { place: 1 }));

    // Act / Assess
    expect(changeAttributes(update)).toMatchObject({ change: 'request.updated', recordId: '8812300040004561', status: 'NOT_STARTED' });
  });
});

describe('Class: SnsChangePublisher', () => {
  const sns = new SNSClient({});
  afterAll(() => sns.destroy());

  it('publishes the change as JSON with its filter attributes', async () => {
    // Prepare
    const topicArn = await createTopic();
    const queueUrl = await subscribeQueue(topicArn);
    const change = changeOf(request('NOT_STARTED', 'e1'), request('ON_HOLD_SHELF', 'e2'));

    // Act
    await new SnsChangePublisher(sns, topicArn).publish(change);

    // Assess
    const [message, ...more] = await drainQueue(queueUrl);
    expect(more).toEqual([]);
    expect(JSON.parse(message.Body!)).toEqual(change);
    const attributes = messageAttributesOf(message);
    expect(attributes).toEqual({
      entity: 'request',
      change: 'request.status-changed',
      patron: 'pat0042x',
      recordId: '8812300040004561',
      source: 'webhook',
      status: 'ON_HOLD_SHELF',
    });
  });

  it('lets a filter policy on recordId follow one record, its request.updated included', async () => {
    // Prepare
    const topicArn = await createTopic();
    const oneRecord = await subscribeQueue(topicArn, { recordId: ['8812300040004561'] });
    const publisher = new SnsChangePublisher(sns, topicArn);
    const other = { itemId: '8812300050004561' };
    const changes = [
      changeOf(undefined, request('NOT_STARTED', 'e1')),
      changeOf(undefined, request('NOT_STARTED', 'o1', false, other)),
      changeOf(request('NOT_STARTED', 'e1'), request('NOT_STARTED', 'e2', false, { place: 1 })),
      changeOf(request('NOT_STARTED', 'o1', false, other), request('NOT_STARTED', 'o2', false, { ...other, place: 1 })),
    ];

    // Act
    for (const change of changes) await publisher.publish(change);

    // Assess
    const received = (await drainQueue(oneRecord)).map((message) => (JSON.parse(message.Body!) as CacheChange).eventId);
    expect(received).toEqual(['request.created/8812300040004561/e1', 'request.updated/8812300040004561/e2']);
  });

  it('lets a filter policy on the attributes pick out holds reaching the shelf', async () => {
    // Prepare
    const topicArn = await createTopic();
    const onShelf = await subscribeQueue(topicArn, { change: ['request.status-changed'], status: ['ON_HOLD_SHELF'] });
    const publisher = new SnsChangePublisher(sns, topicArn);
    const changes = [
      changeOf(undefined, request('NOT_STARTED', 'e1')),
      changeOf(request('NOT_STARTED', 'e1'), request('IN_PROCESS', 'e2')),
      changeOf(request('IN_PROCESS', 'e2'), request('ON_HOLD_SHELF', 'e3')),
      changeOf(request('ON_HOLD_SHELF', 'e3'), request('ON_HOLD_SHELF', 'e4', true)),
    ];

    // Act
    for (const change of changes) await publisher.publish(change);

    // Assess
    const received = (await drainQueue(onShelf)).map((message) => (JSON.parse(message.Body!) as CacheChange).eventId);
    expect(received).toEqual(['request.status-changed/8812300040004561/e3']);
  });

  it('fails loudly when the topic does not exist', async () => {
    // Prepare
    const missing = (await createTopic()).replace(/[^:]+$/, 'no-such-topic');

    // Act / Assess
    await expect(new SnsChangePublisher(sns, missing).publish(changeOf(undefined, request('NOT_STARTED', 'e1')))).rejects.toThrow(/does not exist/);
  });
});

import { join } from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Message } from '@aws-sdk/client-sqs';
import { type AlmaEventType, type CacheChange, type Clock } from '@alma-cache/cache-domain';
import type { Container } from 'inversify';
import { almaWebhookMessage, almaWebhooksInTimeOrder, ManualClock, SAMPLES_RECEIVED_AT } from '@alma-cache/cache-domain/testing';
import { createDocumentClient } from '@alma-cache/aws-adapters';
import {
  createQueue,
  createStreamedCacheTables,
  createTopic,
  drainQueue,
  messageAttributesOf,
  type StreamedCacheTables,
  subscribeQueue,
} from '@alma-cache/aws-adapters/testing';
import { sqsEvent, sqsRecord, TableStreamReader } from '@alma-cache/local-aws';

// The whole path on the emulators: Alma webhooks through the real sns-lambdas handlers (each from its queue, the raw
// webhook body as the message, as the topics' raw subscriptions deliver it) write DynamoDB Local tables
// with streams; their stream records go to the real stream handler (as Lambda's event source mapping would hand
// them over); it publishes to a real topic in moto, to which queues are subscribed with and without a filter policy.

type QueueHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;
type StreamHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;

const SNS_LAMBDAS = join(__dirname, '..', '..', '..', 'sns-lambdas', 'src', 'handlers');
const HANDLER_OF: Record<AlmaEventType, string> = {
  LOAN_CREATED: 'loan-updated',
  LOAN_RENEWED: 'loan-updated',
  LOAN_DUE_DATE: 'loan-updated',
  LOAN_RETURNED: 'loan-returned',
  REQUEST_CREATED: 'request-updated',
  REQUEST_PLACED_ON_SHELF: 'request-updated',
  REQUEST_CANCELED: 'request-closed',
  REQUEST_CLOSED: 'request-closed',
};
const LOAN = '7391500230004561';
const HOLD = '8812300040004561';
const CANCELED_HOLD = '8812300050004561';
const ON_SHELF_FILTER = { change: ['request.status-changed'], status: ['ON_HOLD_SHELF'] };
const STREAM_SETTLE_MS = 1_500;

const bodyOf = (message: Message) => JSON.parse(message.Body!) as CacheChange;
/** `loan.renewed (due_date 2026-12-05T23:59:00Z -> 2026-12-19T23:59:00Z, …)`: the values that differ. */
const summary = (change: CacheChange) => {
  const fields = Object.keys({ ...change.old, ...change.new });
  const moved = fields
    .map((field) => [field, change.old?.[field] ?? null, change.new?.[field] ?? null] as const)
    .filter(([, from, to]) => from !== to)
    .map(([field, from, to]) => `${field} ${from ?? '-'} -> ${to ?? '-'}`);
  return `${change.almaEventType} -> ${change.change} (${moved.join(', ')})`;
};

describe('Integration: change notifications from the cache tables', () => {
  let tables: StreamedCacheTables;
  let queueHandlers: Record<string, QueueHandler>;
  let streamHandler: StreamHandler;
  let readers: TableStreamReader[];
  let everything: string;
  let onShelf: string;
  let topicArn: string;
  const responses: DynamoDBBatchResponse[] = [];
  let streamRecords: DynamoDBRecord[] = [];

  /** Reads both streams until `atLeast` new records are there or the settle time is up: DynamoDB Local shows them within milliseconds. */
  const newStreamRecords = async (atLeast: number): Promise<DynamoDBRecord[]> => {
    const found: DynamoDBRecord[] = [];
    const deadline = Date.now() + STREAM_SETTLE_MS;
    do {
      for (const reader of readers) found.push(...(await reader.read()));
      if (found.length >= atLeast) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    } while (Date.now() < deadline);
    return found;
  };

  /** Hands the stream records that are there (once at least `atLeast` are) to the stream handler, as one batch. */
  const deliverStream = async (atLeast: number): Promise<DynamoDBRecord[]> => {
    const records = await newStreamRecords(atLeast);
    if (records.length > 0) responses.push(await streamHandler({ Records: records }));
    streamRecords.push(...records);
    return records;
  };

  /** One webhook through its sns-lambdas function, then its stream records (if it wrote) through the stream handler. */
  const play = async (type: AlmaEventType, message = almaWebhookMessage(type), expectRecords = 1): Promise<DynamoDBRecord[]> => {
    const queueArn = `arn:aws:sqs:eu-west-1:000000000000:alma-cache-sns-test-${HANDLER_OF[type]}`;
    const { batchItemFailures } = await queueHandlers[HANDLER_OF[type]](sqsEvent([sqsRecord(message, queueArn)]));
    expect(batchItemFailures).toEqual([]);
    return deliverStream(expectRecords);
  };

  beforeAll(async () => {
    tables = await createStreamedCacheTables();
    topicArn = await createTopic();
    everything = await subscribeQueue(topicArn);
    onShelf = await subscribeQueue(topicArn, ON_SHELF_FILTER);
    Object.assign(process.env, {
      // sns-lambdas' environment (its src/config.ts), as its serverless.yml sets it
      USER_CACHE_TABLE_NAME: tables.users,
      LOAN_CACHE_TABLE_NAME: tables.loans,
      REQUEST_CACHE_TABLE_NAME: tables.requests,
      USER_REFRESH_CLAIM_TABLE_NAME: tables.refreshClaims,
      USER_QUEUE_URL: await createQueue(),
      // Each function's own DLQ, where a refused event would go (none is refused here).
      DEAD_LETTER_QUEUE_ARN: `arn:aws:sqs:eu-west-1:000000000000:${(await createQueue()).split('/').pop()}`,
      // Each function's own queue, where an SNS event reaching it during the upgrade from the SNS path is forwarded (none here).
      SOURCE_QUEUE_URL: await createQueue(),
      CHANGE_TOPIC_ARN: topicArn,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      // The metrics have their own test (stream-handler.spec.ts); here their EMF lines would only flood the output.
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    // The upstream functions are another app: loaded by path, as Lambda loads a bundle, not imported into this one.
    // The fixtures are dated late 2026: on the real clock they would fall outside the replay horizon (or ahead of
    // it) as the calendar moves, so the functions' container runs on a clock just after the samples. The handlers
    // resolve their use case when loaded, so the clock is rebound before they are.
    const { functionContainer, TOKENS } = (await import(join(SNS_LAMBDAS, '..', 'composition-root'))) as {
      functionContainer: () => Container;
      TOKENS: { Clock: symbol };
    };
    functionContainer().rebindSync<Clock>(TOKENS.Clock).toConstantValue(new ManualClock(SAMPLES_RECEIVED_AT));
    queueHandlers = {};
    for (const name of new Set(Object.values(HANDLER_OF))) {
      queueHandlers[name] = ((await import(join(SNS_LAMBDAS, name))) as { handler: QueueHandler }).handler;
    }
    streamHandler = (await import('../../src/handlers/publish-changes')).handler;
    readers = [new TableStreamReader(tables.loansStreamArn), new TableStreamReader(tables.requestsStreamArn)];

    const client = createDocumentClient();
    await client.send(new PutCommand({ TableName: tables.users, Item: { primary_id: 'pat0042x' } }));
    client.destroy();
  });

  afterAll(() => readers?.forEach((reader) => reader.close()));

  it('publishes one event per meaningful change of the fixture lives, and a filtered queue gets only the hold on the shelf', async () => {
    // Act: the shared fixtures in the order they happened
    const perWebhook: [AlmaEventType, number][] = [];
    for (const type of almaWebhooksInTimeOrder) perWebhook.push([type, (await play(type)).length]);

    // Assess
    expect(perWebhook.every(([, records]) => records === 1)).toBe(true);
    expect(responses.every((response) => response.batchItemFailures.length === 0)).toBe(true);
    const published = (await drainQueue(everything)).map(bodyOf);
    const lifeOf = (id: string) =>
      published.filter((change) => change.recordId === id).sort((a, b) => a.almaEventTime.localeCompare(b.almaEventTime));
    expect(lifeOf(LOAN).map((change) => change.change)).toEqual(['loan.created', 'loan.renewed', 'loan.due-date-changed', 'loan.removed']);
    expect(lifeOf(HOLD).map((change) => change.change)).toEqual(['request.created', 'request.status-changed', 'request.removed']);
    expect(lifeOf(CANCELED_HOLD)).toEqual([]);
    expect(published).toHaveLength(7);
    expect(new Set(published.map((change) => change.eventId)).size).toBe(7);

    const shelf = await drainQueue(onShelf);
    expect(shelf.map((message) => [bodyOf(message).eventId, messageAttributesOf(message)])).toEqual([
      [
        `request.status-changed/${HOLD}/5500120002`,
        { entity: 'request', change: 'request.status-changed', patron: 'pat0042x', recordId: HOLD, source: 'webhook', status: 'ON_HOLD_SHELF' },
      ],
    ]);
    expect(bodyOf(shelf[0])).toMatchObject({
      userPrimaryId: 'PAT0042X',
      almaEventType: 'REQUEST_PLACED_ON_SHELF',
      almaEventTime: '2026-11-25T08:47:19.377Z',
      title: 'The Art of Computer Programming, Vol. 1',
      old: { request_status: 'NOT_STARTED' },
      new: { request_status: 'ON_HOLD_SHELF', pickup_location: 'Main Library' },
    });

    console.log(
      [
        `[measured] ${streamRecords.length} stream records from ${almaWebhooksInTimeOrder.length} fixture webhooks -> ${published.length} events; filtered queue ${JSON.stringify(ON_SHELF_FILTER)} -> ${shelf.length}`,
        `[measured] one loan's life (${LOAN}): ${lifeOf(LOAN).map(summary).join('; ')}`,
        `[measured] one hold's life (${HOLD}): ${lifeOf(HOLD).map(summary).join('; ')}`,
        `[measured] canceled request (${CANCELED_HOLD}, never cached live): REQUEST_CANCELED -> nothing`,
      ].join('\n'),
    );
  });

  it('publishes nothing when every webhook is delivered again', async () => {
    // Prepare
    streamRecords = [];

    // Act: the same messages again, as Alma's and Lambda's retries deliver them
    for (const type of almaWebhooksInTimeOrder) await play(type, almaWebhookMessage(type), 0);
    await deliverStream(Number.POSITIVE_INFINITY); // whatever still shows up within the settle time

    // Assess
    expect(responses.every((response) => response.batchItemFailures.length === 0)).toBe(true);
    expect(await drainQueue(everything)).toEqual([]);
    console.log(`[measured] replaying the ${almaWebhooksInTimeOrder.length} fixture webhooks: ${streamRecords.length} stream records -> 0 events`);
  });

  it('sends a status change to another status past the filter, and a canceled request the cache held as removed', async () => {
    // Prepare: a second hold that goes to IN_PROCESS and is then canceled
    const id = 'req-second-hold';
    const inProcess = JSON.parse(almaWebhookMessage('REQUEST_PLACED_ON_SHELF', { itemId: id, eventId: 'second-2' })) as Record<string, any>;
    inProcess['user_request']['request_status'] = 'IN_PROCESS';

    // Act
    await play('REQUEST_CREATED', almaWebhookMessage('REQUEST_CREATED', { itemId: id, eventId: 'second-1' }));
    await play('REQUEST_PLACED_ON_SHELF', JSON.stringify(inProcess));
    await play('REQUEST_CANCELED', almaWebhookMessage('REQUEST_CANCELED', { itemId: id, eventId: 'second-3', time: '2026-11-28T10:00:00.000Z' }));

    // Assess
    const published = (await drainQueue(everything)).map(bodyOf);
    expect(published.map((change) => [change.change, change.old?.['request_status'] ?? null, change.new?.['request_status']])).toEqual([
      ['request.created', null, 'NOT_STARTED'],
      ['request.status-changed', 'NOT_STARTED', 'IN_PROCESS'],
      ['request.removed', 'IN_PROCESS', 'HISTORY'],
    ]);
    expect(await drainQueue(onShelf)).toEqual([]);
  });

  it('publishes request.updated for a move in the queue, and a recordId filter follows that one record only', async () => {
    // Prepare: two new holds; a queue that follows only the first
    const [followed, other] = ['req-followed-hold', 'req-other-hold'];
    const followedQueue = await subscribeQueue(topicArn, { recordId: [followed] });
    const movedUp = (itemId: string, eventId: string) => {
      const body = JSON.parse(almaWebhookMessage('REQUEST_CREATED', { itemId, eventId, time: '2026-11-22T09:00:00.000Z' })) as Record<string, any>;
      body['user_request']['place_in_queue'] = 1;
      body['user_request']['pickup_location'] = 'Science Library';
      return JSON.stringify(body);
    };

    // Act
    for (const itemId of [followed, other]) await play('REQUEST_CREATED', almaWebhookMessage('REQUEST_CREATED', { itemId, eventId: `${itemId}-1` }));
    await play('REQUEST_CREATED', movedUp(other, 'other-2'));
    await play('REQUEST_CREATED', movedUp(followed, 'followed-2'));

    // Assess
    const published = (await drainQueue(everything)).map(bodyOf);
    expect(published.map((change) => [change.recordId, change.change, change.changedFields])).toEqual([
      [followed, 'request.created', null],
      [other, 'request.created', null],
      [other, 'request.updated', ['place_in_queue', 'pickup_location']],
      [followed, 'request.updated', ['place_in_queue', 'pickup_location']],
    ]);
    const received = await drainQueue(followedQueue);
    expect(received.map((message) => [bodyOf(message).change, messageAttributesOf(message)['recordId']])).toEqual([
      ['request.created', followed],
      ['request.updated', followed],
    ]);
    expect(bodyOf(received[1])).toMatchObject({
      old: { place_in_queue: 2, pickup_location: 'Main Library' },
      new: { place_in_queue: 1, pickup_location: 'Science Library' },
    });
  });
});

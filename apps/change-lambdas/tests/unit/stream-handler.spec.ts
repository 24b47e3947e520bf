import { FullBatchFailureError } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { type CacheChange, type ChangePublisher, PublishCacheChanges } from '@alma-cache/cache-domain';
import { createStreamHandler, HeldBackRecordError, MAX_ITEMS_IN_FLIGHT } from '../../src/stream-handler';
import { CapturedMetrics } from '@alma-cache/local-aws';

const request = (status: string, eventId: string, extra: Record<string, unknown> = {}) => ({
  request_id: 'r-1',
  user_primary_id: 'PAT0042X',
  request_status: status,
  alma_event_id: eventId,
  alma_event_type: 'REQUEST_PLACED_ON_SHELF',
  alma_event_time: `2026-11-25T08:00:0${eventId.slice(-1)}.000Z`,
  expires_at: 1_800_000_000,
  ...extra,
});

let sequence = 100;
const record = (eventName: 'INSERT' | 'MODIFY', images: { old?: Record<string, unknown>; new?: Record<string, unknown> }): DynamoDBRecord => ({
  eventID: `id-${sequence}`,
  eventName,
  eventSource: 'aws:dynamodb',
  eventSourceARN: 'arn:aws:dynamodb:eu-west-1:000000000000:table/requests/stream/2026-11-21T00:00:00.000',
  dynamodb: {
    Keys: marshall({ request_id: (images.new ?? images.old)?.['request_id'] }) as never,
    ...(images.old ? { OldImage: marshall(images.old) as never } : {}),
    ...(images.new ? { NewImage: marshall(images.new) as never } : {}),
    SequenceNumber: String((sequence += 1)),
    StreamViewType: 'NEW_AND_OLD_IMAGES',
  },
});
// A MODIFY without its old image: what a stream of the wrong view type would send.
const unreadable = (): DynamoDBRecord => record('MODIFY', { new: request('ON_HOLD_SHELF', 'e9') });

const silentLogger = () => new Logger({ serviceName: 'test', logLevel: 'SILENT' });
const setUp = (publish: ChangePublisher['publish'] = async () => undefined) => {
  const published: CacheChange[] = [];
  const publisher: ChangePublisher = {
    publish: async (change) => {
      await publish(change);
      published.push(change);
    },
  };
  const logger = silentLogger();
  const metrics = new CapturedMetrics('alma-cache-changes');
  return { published, logger, metrics, handler: createStreamHandler(new PublishCacheChanges(publisher), logger, metrics) };
};
const sequenceOf = (r: DynamoDBRecord) => r.dynamodb!.SequenceNumber!;
// Request `id` created (e1), then on the hold shelf (e3).
const created = (id: string) => record('INSERT', { new: request('NOT_STARTED', 'e1', { request_id: id }) });
const onShelf = (id: string) =>
  record('MODIFY', { old: request('NOT_STARTED', 'e1', { request_id: id }), new: request('ON_HOLD_SHELF', 'e3', { request_id: id }) });
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottledException' });
const changesOf = (published: CacheChange[]) => published.map((change) => `${change.recordId} ${change.change}`);

describe('Function: createStreamHandler', () => {
  it('publishes each change of a batch in stream order and reports no failures', async () => {
    // Prepare
    const { handler, published } = setUp();
    const event: DynamoDBStreamEvent = {
      Records: [
        record('INSERT', { new: request('NOT_STARTED', 'e1') }),
        record('MODIFY', { old: request('NOT_STARTED', 'e1'), new: request('IN_PROCESS', 'e2') }),
        record('MODIFY', { old: request('IN_PROCESS', 'e2'), new: request('IN_PROCESS', 'e2', { expires_at: 1_900_000_000 }) }),
        record('MODIFY', { old: request('IN_PROCESS', 'e2'), new: request('ON_HOLD_SHELF', 'e3') }),
      ],
    };

    // Act
    const response = await handler(event);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(published.map((change) => [change.change, change.new?.['request_status']])).toEqual([
      ['request.created', 'NOT_STARTED'],
      ['request.status-changed', 'IN_PROCESS'],
      ['request.status-changed', 'ON_HOLD_SHELF'],
    ]);
  });

  it('logs each published change by its name and place in the stream, with no patron, loan or request id', async () => {
    // Prepare
    const { handler, logger } = setUp();
    const infos = jest.spyOn(logger, 'info');
    const first = record('INSERT', { new: request('NOT_STARTED', 'e1', { request_id: 'r-8812300040004561' }) });

    // Act
    await handler({ Records: [first] });

    // Assess
    expect(infos).toHaveBeenCalledWith('Change published', {
      sequenceNumber: sequenceOf(first),
      eventName: 'INSERT',
      eventSourceARN: first.eventSourceARN,
      change: 'request.created',
      source: 'webhook',
    });
    const logged = JSON.stringify(infos.mock.calls);
    expect(logged).not.toContain('8812300040004561');
    expect(logged.toLowerCase()).not.toContain('pat0042x');
  });

  it('reports an unreadable record and holds back the rest of the batch, logging why', async () => {
    // Prepare
    const { handler, published, logger } = setUp();
    const errors = jest.spyOn(logger, 'error');
    const good = record('INSERT', { new: request('NOT_STARTED', 'e1') });
    const bad = unreadable();
    const after = record('MODIFY', { old: request('NOT_STARTED', 'e1'), new: request('ON_HOLD_SHELF', 'e3') });

    // Act
    const response = await handler({ Records: [good, bad, after] });

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: sequenceOf(bad) }, { itemIdentifier: sequenceOf(after) }]);
    expect(published.map((change) => change.change)).toEqual(['request.created']);
    expect(errors).toHaveBeenCalledTimes(1);
    expect(errors).toHaveBeenCalledWith(expect.stringContaining('unreadable'), {
      sequenceNumber: sequenceOf(bad),
      eventName: 'MODIFY',
      eventSourceARN: bad.eventSourceARN,
      errorType: 'InvalidStreamRecordError',
      reason: 'MODIFY without OldImage (the stream view type must be NEW_AND_OLD_IMAGES; this one is NEW_AND_OLD_IMAGES)',
    });
  });

  it('fails the whole batch when its first record fails, so that Lambda bisects it', async () => {
    // Prepare
    const { handler, published } = setUp();
    const records = [unreadable(), record('INSERT', { new: request('NOT_STARTED', 'e1') })];

    // Act
    const act = handler({ Records: records });

    // Assess
    await expect(act).rejects.toBeInstanceOf(FullBatchFailureError);
    expect(published).toEqual([]);
  });

  it('reports a publishing failure from that record on, for Lambda to resend', async () => {
    // Prepare
    let calls = 0;
    const { handler, published } = setUp(async () => {
      calls += 1;
      if (calls === 2) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottledException' });
    });
    const records = [
      record('INSERT', { new: request('NOT_STARTED', 'e1') }),
      record('MODIFY', { old: request('NOT_STARTED', 'e1'), new: request('IN_PROCESS', 'e2') }),
      record('MODIFY', { old: request('IN_PROCESS', 'e2'), new: request('ON_HOLD_SHELF', 'e3') }),
    ];

    // Act
    const response = await handler({ Records: records });

    // Assess
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual([sequenceOf(records[1]), sequenceOf(records[2])]);
    expect(published.map((change) => change.new?.['request_status'])).toEqual(['NOT_STARTED']);
  });

  it('publishes records of different items concurrently', async () => {
    // Prepare: each publish waits until both items are in flight
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const started: string[] = [];
    const { handler, published } = setUp(async (change) => {
      started.push(change.recordId);
      if (started.length === 2) release();
      await gate;
    });

    // Act
    const response = await handler({ Records: [created('r-1'), created('r-2')] });

    // Assess: one at a time, the first publish would have waited for the second forever
    expect(response).toEqual({ batchItemFailures: [] });
    expect(started).toEqual(['r-1', 'r-2']);
    expect(changesOf(published).sort()).toEqual(['r-1 request.created', 'r-2 request.created']);
  });

  it(`has at most ${MAX_ITEMS_IN_FLIGHT} items in flight`, async () => {
    // Prepare: 30 items of two records each
    let inFlight = 0;
    let most = 0;
    const { handler, published } = setUp(async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await delay(2);
      inFlight -= 1;
    });
    const ids = Array.from({ length: 30 }, (_, n) => `r-${n}`);

    // Act
    const response = await handler({ Records: [...ids.map(created), ...ids.map(onShelf)] });

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(most).toBe(MAX_ITEMS_IN_FLIGHT);
    expect(published).toHaveLength(60);
  });

  it("publishes one item's records in stream order while other items go ahead", async () => {
    // Prepare: r-1's first publish is slow
    const { handler, published } = setUp(async (change) => {
      if (change.recordId === 'r-1' && change.change === 'request.created') await delay(30);
    });
    const records = [
      created('r-1'),
      created('r-2'),
      record('MODIFY', { old: request('NOT_STARTED', 'e1'), new: request('IN_PROCESS', 'e2') }),
      onShelf('r-2'),
      record('MODIFY', { old: request('IN_PROCESS', 'e2'), new: request('ON_HOLD_SHELF', 'e3') }),
    ];

    // Act
    const response = await handler({ Records: records });

    // Assess: r-2 did not wait for r-1; r-1's changes came in the order they happened
    expect(response).toEqual({ batchItemFailures: [] });
    expect(published.map((change) => `${change.recordId} ${change.new?.['request_status']}`)).toEqual([
      'r-2 NOT_STARTED',
      'r-2 ON_HOLD_SHELF',
      'r-1 NOT_STARTED',
      'r-1 IN_PROCESS',
      'r-1 ON_HOLD_SHELF',
    ]);
  });

  it('reports a failure in the middle and every record after it; records after it of the same item are not tried', async () => {
    // Prepare: r-1's second record fails after a while; r-2 meanwhile publishes records that come after it
    const tried: string[] = [];
    const { handler, published } = setUp(async (change) => {
      tried.push(`${change.recordId} ${change.new?.['request_status']}`);
      if (change.recordId === 'r-1' && change.new?.['request_status'] === 'IN_PROCESS') {
        await delay(20);
        throw throttled();
      }
    });
    const records = [
      created('r-1'),
      record('MODIFY', { old: request('NOT_STARTED', 'e1'), new: request('IN_PROCESS', 'e2') }),
      created('r-2'),
      record('MODIFY', { old: request('IN_PROCESS', 'e2'), new: request('ON_HOLD_SHELF', 'e3') }),
      onShelf('r-2'),
    ];

    // Act
    const response = await handler({ Records: records });

    // Assess: the resend starts at r-1's failed record and publishes r-2's two changes again (same event ids)
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(records.slice(1).map(sequenceOf));
    expect(tried.sort()).toEqual(['r-1 IN_PROCESS', 'r-1 NOT_STARTED', 'r-2 NOT_STARTED', 'r-2 ON_HOLD_SHELF']);
    expect(changesOf(published)).toEqual(['r-1 request.created', 'r-2 request.created', 'r-2 request.status-changed']);
  });

  it('starts no record after a failed one, whatever its item', async () => {
    // Prepare: 12 items; the second fails at once while the first ten are in flight
    const tried: string[] = [];
    const { handler, metrics } = setUp(async (change) => {
      tried.push(change.recordId);
      if (change.recordId === 'r-1') throw throttled();
      await delay(5);
    });
    const records = Array.from({ length: 12 }, (_, n) => created(`r-${n}`));

    // Act
    const response = await handler({ Records: records });

    // Assess: the two items waiting for a free slot were held back, not tried
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(records.slice(1).map(sequenceOf));
    expect(tried).toEqual(Array.from({ length: MAX_ITEMS_IN_FLIGHT }, (_, n) => `r-${n}`));
    expect(metrics.documents).toHaveLength(1);
    expect(Object.fromEntries(metrics.points().map((point) => [point.metric, point.value]))).toEqual({
      ChangesPublished: Array.from({ length: MAX_ITEMS_IN_FLIGHT - 1 }, () => 1),
      RecordsFailed: 1,
    });
  });

  it('fails the whole batch when its first record fails, even though other items were published meanwhile', async () => {
    // Prepare: r-1's first record fails after r-2 has published
    const { handler, published } = setUp(async (change) => {
      if (change.recordId === 'r-1') {
        await delay(20);
        throw throttled();
      }
    });
    const records = [created('r-1'), created('r-2'), onShelf('r-1')];

    // Act
    const act = handler({ Records: records });

    // Assess: the record errors are r-1's failure and its held-back second record
    const error = await act.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FullBatchFailureError);
    expect((error as FullBatchFailureError).recordErrors.map((recordError) => recordError.name)).toEqual([
      'ThrottledException',
      'HeldBackRecordError',
    ]);
    expect(changesOf(published)).toEqual(['r-2 request.created']);
  });

  it('starts each batch afresh after a failed one', async () => {
    // Prepare
    const { handler, published } = setUp();
    await handler({ Records: [record('INSERT', { new: request('NOT_STARTED', 'e1') }), unreadable()] });

    // Act
    const response = await handler({ Records: [record('MODIFY', { old: request('NOT_STARTED', 'e1'), new: request('ON_HOLD_SHELF', 'e3') })] });

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(published.map((change) => change.change)).toEqual(['request.created', 'request.status-changed']);
  });
});

describe('Class: HeldBackRecordError', () => {
  it('publishes one metrics document per invocation: changes published, writes without change, failed records', async () => {
    // Prepare: a batch whose third record is unreadable, and a batch that fails whole
    const { handler, metrics } = setUp();
    const partly: DynamoDBStreamEvent = {
      Records: [
        record('INSERT', { new: request('NOT_STARTED', 'e1') }),
        record('MODIFY', { old: request('NOT_STARTED', 'e1'), new: request('NOT_STARTED', 'e1', { expires_at: 1_900_000_000 }) }),
        unreadable(),
        record('MODIFY', { old: request('NOT_STARTED', 'e1'), new: request('IN_PROCESS', 'e2') }),
      ],
    };

    // Act
    await handler(partly);
    await handler({ Records: [unreadable()] }).catch(() => undefined);

    // Assess: the held-back fourth record is not counted; it comes back with the resent batch
    expect(metrics.documents).toHaveLength(2);
    expect(metrics.points()).toEqual([
      { metric: 'ChangesPublished', value: 1, dimensions: {} },
      { metric: 'WritesWithoutChange', value: 1, dimensions: {} },
      { metric: 'RecordsFailed', value: 1, dimensions: {} },
      { metric: 'RecordsFailed', value: 1, dimensions: {} },
    ]);
    expect(metrics.documents[0]).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Namespace: 'AlmaCache', Dimensions: [['service']] }] },
      service: 'alma-cache-changes',
    });
  });

  it('names the record held back and the one that failed', () => {
    expect(new HeldBackRecordError('102', '101').message).toBe('record 102 held back: record 101 before it in this batch failed');
  });
});

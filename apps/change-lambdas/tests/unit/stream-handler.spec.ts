import { FullBatchFailureError } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { type CacheChange, type ChangePublisher, PublishCacheChanges } from '@alma-cache/cache-domain';
import { createStreamHandler, HeldBackRecordError } from '../../src/stream-handler';
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
    Keys: marshall({ request_id: 'r-1' }) as never,
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

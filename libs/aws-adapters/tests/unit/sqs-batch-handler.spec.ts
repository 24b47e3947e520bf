import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { createSqsBatchHandler } from '../../src';

const record = (messageId: string, body: string): SQSRecord => ({
  messageId,
  receiptHandle: `handle-${messageId}`,
  body,
  attributes: {
    ApproximateReceiveCount: '1',
    SentTimestamp: '1764000000000',
    SenderId: 'local',
    ApproximateFirstReceiveTimestamp: '1764000000000',
  },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:eu-west-1:000000000000:alma-cache-stg-loan-updated',
  awsRegion: 'eu-west-1',
});
const event = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

describe('Function: createSqsBatchHandler', () => {
  const logger = new Logger({ logLevel: 'SILENT' });

  it('reports each invocation its own failures when two run at once through one handler (the local stack, the bench)', async () => {
    // Prepare: each batch fails its 'fail' message, after the other batch has started
    let release!: () => void;
    const bothStarted = new Promise<void>((resolve) => (release = resolve));
    let started = 0;
    const handler = createSqsBatchHandler(
      async (message) => {
        started += 1;
        if (started === 2) release();
        await bothStarted;
        if (message.body === 'fail') throw new Error('transient');
      },
      { logger, metrics: new Metrics({ namespace: 'test', serviceName: 'test' }) },
    );

    // Act
    const [first, second] = await Promise.all([
      handler(event(record('a-ok', 'ok'), record('a-fail', 'fail'))),
      handler(event(record('b-fail', 'fail'), record('b-ok', 'ok'))),
    ]);

    // Assess
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: 'a-fail' }]);
    expect(second.batchItemFailures).toEqual([{ itemIdentifier: 'b-fail' }]);
  });

  it("publishes nothing when the invocation stored no metric (an empty publish prints Powertools' 'No application metrics' warning)", async () => {
    // Prepare
    const metrics = new Metrics({ namespace: 'test', serviceName: 'test' });
    const publish = jest.spyOn(metrics, 'publishStoredMetrics');
    const handler = createSqsBatchHandler(async () => undefined, { logger, metrics, kind: 'loan' });

    // Act
    const response = await handler(event(record('m1', 'ok')));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(publish).not.toHaveBeenCalled();
  });
});

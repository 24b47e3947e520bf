import { Logger } from '@aws-lambda-powertools/logger';
import { AlmaUnavailableError, type RefreshItem, type RefreshUser } from '@alma-cache/cache-domain';
import { AlmaCallMeter } from '../../src/alma-call-meter';
import { itemRefreshProcessor, userRefreshProcessor } from '../../src/refresh-processors';
import { countAlmaThrottled } from '../../src/refresh-metrics';
import { createRefreshBatchHandler } from '../../src/refresh-batch-handler';
import { CapturedMetrics } from '@alma-cache/local-aws';
import type { FailureParking } from '@alma-cache/aws-adapters';
import { sqsEvent, sqsRecord } from '../support/sqs-event';

// The batch handler and processors with use cases stubbed: each stub asks the metered Alma key as many times as it
// "calls" Alma, as AlmaHttpApi does before every attempt.
describe('Metrics: refresh-lambdas', () => {
  const logger = new Logger({ logLevel: 'SILENT' });
  let meter: AlmaCallMeter;
  let metrics: CapturedMetrics;
  let almaRequest: () => Promise<string>;

  const callAlma = async (calls: number, retries = 0) => {
    for (let i = 0; i < calls; i += 1) await almaRequest();
    for (let i = 0; i < retries; i += 1) meter.retried();
  };

  beforeEach(() => {
    meter = new AlmaCallMeter();
    metrics = new CapturedMetrics('alma-cache-refresh');
    almaRequest = meter.countingApiKey(async () => 'key');
  });

  it('publishes one document per invocation: Refreshed, NotFoundInAlma, RefreshFailed and the Alma calls, by kind', async () => {
    // Prepare: three patrons, one refreshed (3 calls), one gone from Alma (1 call), one failing on an Alma outage (2 calls, 1 retry)
    const refreshUser = {
      execute: async (primaryId: string) => {
        if (primaryId === 'GONE') {
          await callAlma(1);
          return { userKey: 'gone', result: 'user-not-found', counts: {}, attempts: 1 };
        }
        if (primaryId === 'DOWN') {
          await callAlma(2, 1);
          throw new AlmaUnavailableError('503 from Alma', 30);
        }
        await callAlma(3);
        return { userKey: primaryId.toLowerCase(), result: 'refreshed', counts: {}, attempts: 1 };
      },
    } as unknown as RefreshUser;
    const handler = createRefreshBatchHandler(userRefreshProcessor(refreshUser, meter, logger, metrics), logger, metrics, 'user');

    // Act
    const response = await handler(sqsEvent(sqsRecord('PAT1'), sqsRecord('GONE'), sqsRecord('DOWN')));

    // Assess
    expect(response.batchItemFailures).toHaveLength(1);
    expect(metrics.documents).toHaveLength(1);
    const totals = Object.fromEntries(
      metrics
        .points()
        .map(({ metric, value, dimensions }) => [
          metric,
          { sum: ([] as number[]).concat(value as number | number[]).reduce((a, b) => a + b, 0), dimensions },
        ]),
    );
    expect(totals).toEqual({
      Refreshed: { sum: 1, dimensions: { kind: 'user' } },
      NotFoundInAlma: { sum: 1, dimensions: { kind: 'user' } },
      RefreshFailed: { sum: 1, dimensions: { kind: 'user' } },
      AlmaCalls: { sum: 6, dimensions: { kind: 'user' } },
      AlmaRetries: { sum: 1, dimensions: { kind: 'user' } },
    });
  });

  it('counts item refreshes under their own kind, and a poison message as RefreshFailed without Alma calls', async () => {
    // Prepare
    const refreshItem = {
      execute: async () => {
        await callAlma(1);
        return { found: false, item: 'written', user: 'unlinked' };
      },
    } as unknown as RefreshItem;
    const handler = createRefreshBatchHandler(itemRefreshProcessor('fee', refreshItem, meter, logger, metrics), logger, metrics, 'fee');

    // Act
    await handler(sqsEvent(sqsRecord(JSON.stringify({ userID: 'PAT1', feeID: 'fee-1' })), sqsRecord('not json')));

    // Assess
    expect(metrics.points()).toEqual(
      expect.arrayContaining([
        { metric: 'NotFoundInAlma', value: 1, dimensions: { kind: 'fee' } },
        { metric: 'RefreshFailed', value: 1, dimensions: { kind: 'fee' } },
        { metric: 'AlmaCalls', value: 1, dimensions: { kind: 'fee' } },
      ]),
    );
    expect(metrics.points().map((point) => point.metric)).not.toContain('Refreshed');
  });

  it('counts a poison message sent to the DLQ as Refused, once, and not as RefreshFailed; RefreshFailed when the DLQ refuses it', async () => {
    // Prepare
    const parked: string[] = [];
    const deadLetterQueue: FailureParking = { park: async (body) => (parked.push(body), `dlq-${parked.length}`) };
    const unreachable: FailureParking = { park: async () => Promise.reject(new Error('queue unreachable')) };
    const refreshUser = { execute: async () => Promise.reject(new Error('never reached: the body is refused first')) } as unknown as RefreshUser;
    const handlerWith = (dlq: FailureParking) =>
      createRefreshBatchHandler(userRefreshProcessor(refreshUser, meter, logger, metrics), logger, metrics, 'user', undefined, dlq);

    // Act
    const refused = await handlerWith(deadLetterQueue)(sqsEvent(sqsRecord('{"userID":"PAT1"}')));
    const failed = await handlerWith(unreachable)(sqsEvent(sqsRecord('{"userID":"PAT2"}')));

    // Assess
    expect(refused.batchItemFailures).toEqual([]);
    expect(failed.batchItemFailures).toHaveLength(1);
    expect(parked).toEqual(['{"userID":"PAT1"}']);
    expect(metrics.points()).toEqual([
      { metric: 'Refused', value: 1, dimensions: { kind: 'user' } },
      { metric: 'RefreshFailed', value: 1, dimensions: { kind: 'user' } },
    ]);
  });

  it('publishes AlmaThrottled at once, with the service dimension only, so one alarm covers every kind', () => {
    // Prepare
    metrics.addDimension('kind', 'loan');

    // Act
    countAlmaThrottled(metrics);
    countAlmaThrottled(metrics);

    // Assess
    expect(metrics.points()).toEqual([
      { metric: 'AlmaThrottled', value: 1, dimensions: {} },
      { metric: 'AlmaThrottled', value: 1, dimensions: {} },
    ]);
    expect(metrics.documents.map((document) => document['service'])).toEqual(['alma-cache-refresh', 'alma-cache-refresh']);
  });

  it('publishes with a fresh dimension set each invocation, so nothing carries over to the next', async () => {
    // Prepare
    const refreshUser = { execute: async () => ({ userKey: 'pat1', result: 'refreshed', counts: {}, attempts: 1 }) } as unknown as RefreshUser;
    const handler = createRefreshBatchHandler(userRefreshProcessor(refreshUser, meter, logger, metrics), logger, metrics, 'user');

    // Act
    await handler(sqsEvent(sqsRecord('PAT1')));
    await handler(sqsEvent(sqsRecord('PAT1')));

    // Assess
    expect(metrics.documents).toHaveLength(2);
    for (const document of metrics.documents) {
      expect(document._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'AlmaCache', Dimensions: [['service', 'kind']] });
      expect(document).toMatchObject({ service: 'alma-cache-refresh', kind: 'user', Refreshed: 1 });
    }
  });
});

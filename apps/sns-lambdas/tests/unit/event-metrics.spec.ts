import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse } from 'aws-lambda';
import { DEFAULT_EXPIRY_POLICY, RecordLoan, RemoveLoan } from '@alma-cache/cache-domain';
import { almaWebhookMessage, InMemoryCacheStore, InMemoryUserRefreshQueue, ManualClock, SAMPLES_RECEIVED_AT } from '@alma-cache/cache-domain/testing';
import { CapturedMetrics, sqsEvent, sqsRecord } from '@alma-cache/local-aws';
import { type FailureParking, METRICS_NAMESPACE } from '@alma-cache/aws-adapters';
import { eventOutcomeOf } from '../../src/event-metrics';
import { createItemEventHandler } from '../../src/sqs-handler';

/** A DLQ in memory: what was parked, with its refusal, or a SendMessage failure when `failing`. */
const memoryParking = (failing = false) => {
  const parked: { body: string; errorType: string }[] = [];
  const parking: FailureParking = {
    park: async (body, refusal) => {
      if (failing) throw Object.assign(new Error('queue unreachable'), { name: 'TimeoutError' });
      parked.push({ body, errorType: refusal.errorType });
      return `m${parked.length}`;
    },
  };
  return { parked, parking };
};

/** One message on the function's queue, as Lambda's SQS trigger hands it over. */
const toBatch = (message: string) => sqsEvent([sqsRecord(message, 'arn:aws:sqs:eu-west-1:000000000000:alma-cache-stg-loan-updated')]);
/** 'done' when the message is done (written, or refused and parked), 'failed' when it is to be received again. */
const fate = (response: SQSBatchResponse) => (response.batchItemFailures.length === 0 ? 'done' : 'failed');

// The real use cases on the in-memory fakes, so each outcome is the one the domain really reports; the handler is the
// queue path's (one message per batch here).
describe('Metrics: sns-lambdas Events', () => {
  const logger = new Logger({ logLevel: 'SILENT' });
  let store: InMemoryCacheStore;
  let metrics: CapturedMetrics;
  let recordLoan: (message: string) => Promise<SQSBatchResponse>;
  let removeLoan: (message: string) => Promise<SQSBatchResponse>;
  let parking: ReturnType<typeof memoryParking>;

  const deps = () => ({
    store,
    refreshQueue: new InMemoryUserRefreshQueue(),
    clock: new ManualClock(SAMPLES_RECEIVED_AT),
    expiry: DEFAULT_EXPIRY_POLICY,
  });

  beforeEach(() => {
    store = new InMemoryCacheStore();
    const shared = deps();
    metrics = new CapturedMetrics('alma-cache-sns');
    parking = memoryParking();
    recordLoan = (message) => createItemEventHandler(new RecordLoan(shared), logger, metrics, { deadLetterQueue: parking.parking })(toBatch(message));
    removeLoan = (message) => createItemEventHandler(new RemoveLoan(shared), logger, metrics, { deadLetterQueue: parking.parking })(toBatch(message));
  });

  it('counts one Events point per event, by event type and outcome: written, duplicate, stale-skipped', async () => {
    // Prepare
    store.seedUser('pat0042x');

    // Act
    await recordLoan(almaWebhookMessage('LOAN_RENEWED'));
    await recordLoan(almaWebhookMessage('LOAN_RENEWED')); // redelivered
    await recordLoan(almaWebhookMessage('LOAN_CREATED')); // older than the renewal
    await removeLoan(almaWebhookMessage('LOAN_RETURNED'));

    // Assess
    expect(metrics.points()).toEqual([
      { metric: 'Events', value: 1, dimensions: { eventType: 'LOAN_RENEWED', outcome: 'written' } },
      { metric: 'Events', value: 1, dimensions: { eventType: 'LOAN_RENEWED', outcome: 'duplicate' } },
      { metric: 'Events', value: 1, dimensions: { eventType: 'LOAN_CREATED', outcome: 'stale-skipped' } },
      { metric: 'Events', value: 1, dimensions: { eventType: 'LOAN_RETURNED', outcome: 'written' } },
    ]);
  });

  it('counts refresh-queued for the first event about an unknown patron and refresh-coalesced for the next', async () => {
    // Act
    await recordLoan(almaWebhookMessage('LOAN_CREATED'));
    await recordLoan(almaWebhookMessage('LOAN_RENEWED'));

    // Assess
    expect(metrics.points().map((point) => point.dimensions['outcome'])).toEqual(['refresh-queued', 'refresh-coalesced']);
  });

  it('counts failed for a transient failure and reports it to be received again; refused, once, for an invalid event it parks on the DLQ', async () => {
    // Prepare
    store.failNext('writeItem', Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ThrottlingException' }));
    const unsupported = almaWebhookMessage('LOAN_CREATED').replace('"LOAN_CREATED"', '"SOMETHING_ELSE"');
    const missingTime = almaWebhookMessage('LOAN_RENEWED').replace(/"time":"[^"]*",?/, '');

    // Act
    const fates: string[] = [];
    for (const message of [almaWebhookMessage('LOAN_CREATED'), unsupported, 'not json', missingTime]) fates.push(fate(await recordLoan(message)));

    // Assess: the event type when the message names a known one, "unknown" otherwise.
    expect(fates).toEqual(['failed', 'done', 'done', 'done']);
    expect(metrics.points()).toEqual([
      { metric: 'Events', value: 1, dimensions: { eventType: 'LOAN_CREATED', outcome: 'failed' } },
      { metric: 'Events', value: 1, dimensions: { eventType: 'unknown', outcome: 'refused' } },
      { metric: 'Events', value: 1, dimensions: { eventType: 'unknown', outcome: 'refused' } },
      { metric: 'Events', value: 1, dimensions: { eventType: 'LOAN_RENEWED', outcome: 'refused' } },
    ]);
    expect(parking.parked.map((parked) => parked.errorType)).toEqual(['UnsupportedEventTypeError', 'MalformedEventError', 'MalformedEventError']);
    expect(parking.parked.map((parked) => parked.body)).toEqual([unsupported, 'not json', missingTime]);
  });

  it('counts failed and reports the refusal to be received again when the DLQ does not take it (SQS moves it there after the last receive)', async () => {
    // Prepare
    const unreachable = memoryParking(true);

    // Act
    const response = await createItemEventHandler(new RecordLoan(deps()), logger, metrics, { deadLetterQueue: unreachable.parking })(
      toBatch('not json'),
    );

    // Assess
    expect(fate(response)).toBe('failed');
    expect(metrics.points()).toEqual([{ metric: 'Events', value: 1, dimensions: { eventType: 'unknown', outcome: 'failed' } }]);
  });

  it('maps every SyncOutcome to one metric outcome, stale and duplicate first', () => {
    // Assess
    expect(eventOutcomeOf({ item: 'stale', user: 'untouched' })).toBe('stale-skipped');
    expect(eventOutcomeOf({ item: 'duplicate', user: 'refresh-requested' })).toBe('duplicate');
    expect(eventOutcomeOf({ item: 'written', user: 'refresh-requested' })).toBe('refresh-queued');
    expect(eventOutcomeOf({ item: 'written', user: 'refresh-already-requested' })).toBe('refresh-coalesced');
    for (const user of ['linked', 'unlinked', 'already-removed', 'untouched'] as const) {
      expect({ user, outcome: eventOutcomeOf({ item: 'written', user }) }).toEqual({ user, outcome: 'written' });
    }
  });

  it('prints the EMF line to stdout as Lambda logs it: namespace AlmaCache, dimensions service, eventType, outcome', async () => {
    // Prepare: the real Metrics, as the composition root builds it, with stdout captured
    store.seedUser('pat0042x');
    const written: string[] = [];
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(chunk.toString());
      return true;
    });
    const real = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'alma-cache-sns' });

    // Act
    try {
      await createItemEventHandler(new RecordLoan(deps()), logger, real, { deadLetterQueue: parking.parking })(
        toBatch(almaWebhookMessage('LOAN_CREATED')),
      );
    } finally {
      stdout.mockRestore();
    }

    // Assess
    const lines = written
      .join('')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      _aws: {
        CloudWatchMetrics: [
          { Namespace: 'AlmaCache', Dimensions: [['service', 'eventType', 'outcome']], Metrics: [{ Name: 'Events', Unit: 'Count' }] },
        ],
      },
      service: 'alma-cache-sns',
      eventType: 'LOAN_CREATED',
      outcome: 'written',
      Events: 1,
    });
  });
});

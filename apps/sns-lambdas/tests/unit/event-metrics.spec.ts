import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SNSEvent } from 'aws-lambda';
import { DEFAULT_EXPIRY_POLICY, RecordLoan, RemoveLoan } from '@alma-cache/cache-domain';
import { almaWebhookMessage, InMemoryCacheStore, InMemoryUserRefreshQueue, ManualClock, SAMPLES_RECEIVED_AT } from '@alma-cache/cache-domain/testing';
import { snsEvent } from '@alma-cache/local-aws';
import { type FailureParking, METRICS_NAMESPACE } from '@alma-cache/aws-adapters';
import { eventOutcomeOf } from '../../src/event-metrics';
import { createSnsHandler } from '../../src/sns-handler';
import { CapturedMetrics } from '@alma-cache/local-aws';

/** A failure queue in memory: what was parked, or a SendMessage failure when `failing`. */
const memoryParking = (failing = false) => {
  const parked: string[] = [];
  const parking: FailureParking = {
    park: async (body) => {
      if (failing) throw Object.assign(new Error('queue unreachable'), { name: 'TimeoutError' });
      parked.push(body);
      return `m${parked.length}`;
    },
  };
  return { parked, parking };
};

const toSns = (message: string) => snsEvent('arn:aws:sns:eu-west-1:000000000000:LOAN_CREATED', message) as unknown as SNSEvent;

// The real use cases on the in-memory fakes, so each outcome is the one the domain really reports.
describe('Metrics: sns-lambdas Events', () => {
  const logger = new Logger({ logLevel: 'SILENT' });
  let store: InMemoryCacheStore;
  let metrics: CapturedMetrics;
  let recordLoan: (message: string) => Promise<void>;
  let removeLoan: (message: string) => Promise<void>;
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
    recordLoan = (message) => createSnsHandler(new RecordLoan(shared), logger, metrics, parking.parking)(toSns(message));
    removeLoan = (message) => createSnsHandler(new RemoveLoan(shared), logger, metrics, parking.parking)(toSns(message));
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

  it('counts failed for a transient failure and still throws; refused, once, for an invalid event it parks and returns', async () => {
    // Prepare
    store.failNext('writeItem', Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ThrottlingException' }));
    const unsupported = almaWebhookMessage('LOAN_CREATED').replace('"LOAN_CREATED"', '"SOMETHING_ELSE"');
    const missingTime = almaWebhookMessage('LOAN_RENEWED').replace(/"time":"[^"]*",?/, '');

    // Act
    const outcomes: string[] = [];
    for (const run of [
      () => recordLoan(almaWebhookMessage('LOAN_CREATED')),
      () => recordLoan(unsupported),
      () => recordLoan('not json'),
      () => recordLoan(missingTime),
      () => createSnsHandler(new RecordLoan(deps()), logger, metrics, parking.parking)({ Records: [] } as unknown as SNSEvent),
    ]) {
      outcomes.push(
        await run().then(
          () => 'resolved',
          () => 'rejected',
        ),
      );
    }

    // Assess: the event type when the message names a known one, "unknown" otherwise.
    expect(outcomes).toEqual(['rejected', 'resolved', 'resolved', 'resolved', 'resolved']);
    expect(metrics.points()).toEqual([
      { metric: 'Events', value: 1, dimensions: { eventType: 'LOAN_CREATED', outcome: 'failed' } },
      { metric: 'Events', value: 1, dimensions: { eventType: 'unknown', outcome: 'refused' } },
      { metric: 'Events', value: 1, dimensions: { eventType: 'unknown', outcome: 'refused' } },
      { metric: 'Events', value: 1, dimensions: { eventType: 'LOAN_RENEWED', outcome: 'refused' } },
      { metric: 'Events', value: 1, dimensions: { eventType: 'unknown', outcome: 'refused' } },
    ]);
    expect(parking.parked.map((body) => JSON.parse(body).responsePayload.errorType)).toEqual([
      'UnsupportedEventTypeError',
      'MalformedEventError',
      'MalformedEventError',
      'InvalidSnsEventError',
    ]);
  });

  it('counts failed and throws the refusal when the failure queue does not take it, so Lambda retries it', async () => {
    // Prepare
    const unreachable = memoryParking(true);

    // Act
    const act = createSnsHandler(new RecordLoan(deps()), logger, metrics, unreachable.parking)(toSns('not json'));

    // Assess
    await expect(act).rejects.toThrow(/message is not JSON/);
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
      await createSnsHandler(new RecordLoan(deps()), logger, real, parking.parking)(toSns(almaWebhookMessage('LOAN_CREATED')));
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

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SNSEvent } from 'aws-lambda';
import { DEFAULT_EXPIRY_POLICY, RecordLoan, RemoveLoan } from '@alma-cache/cache-domain';
import { almaWebhookMessage, InMemoryCacheStore, InMemoryUserRefreshQueue, ManualClock, SAMPLES_RECEIVED_AT } from '@alma-cache/cache-domain/testing';
import { snsEvent } from '@alma-cache/local-aws';
import { METRICS_NAMESPACE } from '@alma-cache/aws-adapters';
import { eventOutcomeOf } from '../../src/event-metrics';
import { createSnsHandler } from '../../src/sns-handler';
import { CapturedMetrics } from '@alma-cache/local-aws';

const toSns = (message: string) => snsEvent('arn:aws:sns:eu-west-1:000000000000:LOAN_CREATED', message) as unknown as SNSEvent;

// The real use cases on the in-memory fakes, so each outcome is the one the domain really reports.
describe('Metrics: sns-lambdas Events', () => {
  const logger = new Logger({ logLevel: 'SILENT' });
  let store: InMemoryCacheStore;
  let metrics: CapturedMetrics;
  let recordLoan: (message: string) => Promise<void>;
  let removeLoan: (message: string) => Promise<void>;

  const deps = () => ({ store, refreshQueue: new InMemoryUserRefreshQueue(), clock: new ManualClock(SAMPLES_RECEIVED_AT), expiry: DEFAULT_EXPIRY_POLICY });

  beforeEach(() => {
    store = new InMemoryCacheStore();
    const shared = deps();
    metrics = new CapturedMetrics('alma-cache-sns');
    recordLoan = (message) => createSnsHandler(new RecordLoan(shared), logger, metrics)(toSns(message));
    removeLoan = (message) => createSnsHandler(new RemoveLoan(shared), logger, metrics)(toSns(message));
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

  it('counts failed, with the event type when the message names a known one and "unknown" otherwise, and still throws', async () => {
    // Prepare
    store.failNext('writeItem', Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ThrottlingException' }));
    const unsupported = almaWebhookMessage('LOAN_CREATED').replace('"LOAN_CREATED"', '"SOMETHING_ELSE"');

    // Act
    const outcomes: string[] = [];
    for (const run of [
      () => recordLoan(almaWebhookMessage('LOAN_CREATED')),
      () => recordLoan(unsupported),
      () => recordLoan('not json'),
      () => createSnsHandler(new RecordLoan(deps()), logger, metrics)({ Records: [] } as unknown as SNSEvent),
    ]) {
      outcomes.push(await run().then(() => 'resolved', () => 'rejected'));
    }

    // Assess
    expect(outcomes).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    expect(metrics.points()).toEqual([
      { metric: 'Events', value: 1, dimensions: { eventType: 'LOAN_CREATED', outcome: 'failed' } },
      { metric: 'Events', value: 1, dimensions: { eventType: 'unknown', outcome: 'failed' } },
      { metric: 'Events', value: 1, dimensions: { eventType: 'unknown', outcome: 'failed' } },
      { metric: 'Events', value: 1, dimensions: { eventType: 'unknown', outcome: 'failed' } },
    ]);
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
      await createSnsHandler(new RecordLoan(deps()), logger, real)(toSns(almaWebhookMessage('LOAN_CREATED')));
    } finally {
      stdout.mockRestore();
    }

    // Assess
    const lines = written.join('').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Namespace: 'AlmaCache', Dimensions: [['service', 'eventType', 'outcome']], Metrics: [{ Name: 'Events', Unit: 'Count' }] }] },
      service: 'alma-cache-sns',
      eventType: 'LOAN_CREATED',
      outcome: 'written',
      Events: 1,
    });
  });
});

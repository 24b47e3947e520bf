import { Metrics } from '@aws-lambda-powertools/metrics';
import { WebhookSkip } from '@alma-cache/cache-domain';
import { METRICS_NAMESPACE } from '@alma-cache/aws-adapters';
import { metricsSkipCounter } from '../../src/skip-counter';

describe('Function: metricsSkipCounter', () => {
  const captureStdout = () => {
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(chunk.toString());
      return true;
    });
    return {
      spy,
      lines: () =>
        written
          .join('')
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as Record<string, unknown>),
    };
  };

  it('prints one EMF line per skip: WebhooksSkipped by service and skip kind', () => {
    // Prepare
    const stdout = captureStdout();
    const counter = metricsSkipCounter(new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'alma-cache-webhooks' }));

    // Act
    try {
      counter.count(WebhookSkip.NOT_USED);
      counter.count(WebhookSkip.UNKNOWN_CIRCULATION_EVENT);
    } finally {
      stdout.spy.mockRestore();
    }

    // Assess: each line stands alone, so the second carries no dimension of the first
    const lines = stdout.lines();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      _aws: {
        CloudWatchMetrics: [{ Namespace: 'AlmaCache', Dimensions: [['service', 'skip']], Metrics: [{ Name: 'WebhooksSkipped', Unit: 'Count' }] }],
      },
      service: 'alma-cache-webhooks',
      skip: 'not-used',
      WebhooksSkipped: 1,
    });
    expect(lines[1]).toMatchObject({ skip: 'unknown-circulation-event', WebhooksSkipped: 1 });
    expect((lines[1]['_aws'] as { CloudWatchMetrics: { Dimensions: string[][] }[] }).CloudWatchMetrics[0].Dimensions).toEqual([['service', 'skip']]);
  });
});

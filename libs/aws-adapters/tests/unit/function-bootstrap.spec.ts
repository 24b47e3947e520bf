import { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { systemClock } from '@alma-cache/cache-domain';
import { Container } from 'inversify';
import { createDocumentClient, createSnsClient, createSqsClient } from '../../src/lib/aws-clients';
import { bindClient, bindFunctionBasics } from '../../src/lib/function-bootstrap';
import { METRICS_NAMESPACE } from '../../src/lib/metrics-namespace';
import { createSsmClient } from '../../src/lib/ssm-secret';

const TOKENS = {
  Config: Symbol.for('Config'),
  Logger: Symbol.for('Logger'),
  Metrics: Symbol.for('Metrics'),
  DocumentClient: Symbol.for('DynamoDBDocumentClient'),
  SqsClient: Symbol.for('SQSClient'),
  SsmClient: Symbol.for('SSMClient'),
  SnsClient: Symbol.for('SNSClient'),
  Clock: Symbol.for('Clock'),
} as const;

const ENV = { AWS_REGION: 'eu-west-1', POWERTOOLS_METRICS_DISABLED: 'true' };

/** The `service` dimension and the namespace a metric would be published with. */
const published = (metrics: Metrics) => {
  metrics.addMetric('probe', 'Count', 1);
  const output = metrics.serializeMetrics() as unknown as { service: string; _aws: { CloudWatchMetrics: { Namespace: string }[] } };
  return { service: output.service, namespace: output._aws.CloudWatchMetrics[0]?.Namespace };
};

/** The `service` field of a line the logger writes (Powertools writes JSON lines to stdout). */
const loggedService = (logger: Logger): unknown => {
  const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    logger.info('probe');
    return (JSON.parse(String(write.mock.calls[0]?.[0])) as { service?: unknown }).service;
  } finally {
    write.mockRestore();
  }
};

describe('Function: bindFunctionBasics', () => {
  it('names the logger and metrics by POWERTOOLS_SERVICE_NAME, in the stack namespace', () => {
    // Prepare
    const container = new Container({ defaultScope: 'Singleton' });

    // Act
    bindFunctionBasics(container, { ...ENV, POWERTOOLS_SERVICE_NAME: 'alma-cache-stg-query' }, 'alma-cache-query', TOKENS);

    // Assess
    const logger = container.get<Logger>(TOKENS.Logger);
    const metrics = container.get<Metrics>(TOKENS.Metrics);
    expect(logger).toBeInstanceOf(Logger);
    expect(container.get(TOKENS.Logger)).toBe(logger);
    expect(container.get(TOKENS.Metrics)).toBe(metrics);
    expect(loggedService(logger)).toBe('alma-cache-stg-query');
    expect(published(metrics)).toEqual({ service: 'alma-cache-stg-query', namespace: METRICS_NAMESPACE });
  });

  it('falls back to the app service name when POWERTOOLS_SERVICE_NAME is unset', () => {
    // Prepare
    const container = new Container();

    // Act
    bindFunctionBasics(container, ENV, 'alma-cache-sns', { Logger: TOKENS.Logger, Metrics: TOKENS.Metrics });

    // Assess
    expect(loggedService(container.get<Logger>(TOKENS.Logger))).toBe('alma-cache-sns');
    expect(published(container.get<Metrics>(TOKENS.Metrics)).service).toBe('alma-cache-sns');
  });

  it('binds the clock when the app has a Clock token, and no SDK client', () => {
    // Prepare
    const container = new Container({ defaultScope: 'Singleton' });

    // Act
    bindFunctionBasics(container, ENV, 'alma-cache-refresh', TOKENS);

    // Assess
    expect(container.get(TOKENS.Clock)).toBe(systemClock);
    expect([TOKENS.DocumentClient, TOKENS.SqsClient, TOKENS.SsmClient, TOKENS.SnsClient].map((token) => container.isBound(token))).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it('binds no clock when the app has no Clock token', () => {
    // Prepare
    const container = new Container({ defaultScope: 'Singleton' });

    // Act
    bindFunctionBasics(container, ENV, 'alma-cache-changes', { Logger: TOKENS.Logger, Metrics: TOKENS.Metrics });

    // Assess
    expect(container.isBound(TOKENS.Clock)).toBe(false);
  });
});

describe('Function: bindClient', () => {
  it('binds the client its factory makes, created on first use, one instance per singleton container', () => {
    // Prepare
    const container = new Container({ defaultScope: 'Singleton' });
    const factory = jest.fn(createDocumentClient);

    // Act
    bindClient(container, TOKENS.DocumentClient, factory);

    // Assess
    expect(factory).not.toHaveBeenCalled();
    const documents = container.get(TOKENS.DocumentClient);
    expect(documents).toBeInstanceOf(DynamoDBDocumentClient);
    expect(container.get(TOKENS.DocumentClient)).toBe(documents);
    expect(factory).toHaveBeenCalledTimes(1);
  });

  it('binds each of the stack clients from its factory', () => {
    // Prepare
    const container = new Container({ defaultScope: 'Singleton' });

    // Act
    bindClient(container, TOKENS.SqsClient, createSqsClient);
    bindClient(container, TOKENS.SsmClient, createSsmClient);
    bindClient(container, TOKENS.SnsClient, createSnsClient);

    // Assess
    expect(container.get(TOKENS.SqsClient)).toBeInstanceOf(SQSClient);
    expect(container.get(TOKENS.SsmClient)).toBeInstanceOf(SSMClient);
    expect(container.get(TOKENS.SnsClient)).toBeInstanceOf(SNSClient);
  });

  it('gives the client the SDK settings passed', async () => {
    // Prepare
    const container = new Container({ defaultScope: 'Singleton' });
    bindClient(container, TOKENS.SsmClient, createSsmClient, { maxAttempts: 2 });
    bindClient(container, TOKENS.SnsClient, createSnsClient, { maxAttempts: 2 });
    bindClient(container, TOKENS.SqsClient, createSqsClient);

    // Act
    const attempts = await Promise.all([
      container.get<SSMClient>(TOKENS.SsmClient).config.maxAttempts(),
      container.get<SNSClient>(TOKENS.SnsClient).config.maxAttempts(),
      container.get<SQSClient>(TOKENS.SqsClient).config.maxAttempts(),
    ]);

    // Assess
    expect(attempts).toEqual([2, 2, 3]);
  });
});

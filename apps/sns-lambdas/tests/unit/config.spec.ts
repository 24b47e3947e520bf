import { ConfigurationError } from '@alma-cache/aws-adapters';
import { loadConfig } from '../../src/config';

describe('Function: loadConfig', () => {
  it('names every missing variable at once', () => {
    // Act
    const act = () => loadConfig({ USER_CACHE_TABLE_NAME: 'users' });

    // Assess
    expect(act).toThrow(ConfigurationError);
    expect(act).toThrow(
      'Missing environment variables: LOAN_CACHE_TABLE_NAME, REQUEST_CACHE_TABLE_NAME, USER_REFRESH_CLAIM_TABLE_NAME, USER_QUEUE_URL, DEAD_LETTER_QUEUE_ARN, SOURCE_QUEUE_URL',
    );
  });

  it('names a bad expiry variable together with the missing ones', () => {
    // Act
    const act = () => loadConfig({ USER_CACHE_TABLE_NAME: 'users', CACHE_ITEM_TTL_SECONDS: 'a year' });

    // Assess
    expect(act).toThrow(ConfigurationError);
    expect(act).toThrow(
      'Missing environment variables: LOAN_CACHE_TABLE_NAME, REQUEST_CACHE_TABLE_NAME, USER_REFRESH_CLAIM_TABLE_NAME, USER_QUEUE_URL, DEAD_LETTER_QUEUE_ARN, SOURCE_QUEUE_URL. ' +
        'Invalid environment variables: CACHE_ITEM_TTL_SECONDS must be a positive whole number of seconds, got "a year"',
    );
  });

  it("reads tables, queues, the function's own DLQ and queue and expiry overrides", () => {
    // Act
    const config = loadConfig({
      USER_CACHE_TABLE_NAME: 'u',
      LOAN_CACHE_TABLE_NAME: 'l',
      REQUEST_CACHE_TABLE_NAME: 'r',
      USER_REFRESH_CLAIM_TABLE_NAME: 'c',
      USER_QUEUE_URL: 'http://queue',
      DEAD_LETTER_QUEUE_ARN: 'arn:aws:sqs:eu-west-1:000000000000:alma-cache-stg-loan-updated-dlq',
      SOURCE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/000000000000/alma-cache-stg-loan-updated',
      USER_REFRESH_WINDOW_SECONDS: '120',
    });

    // Assess
    expect(config.tables).toEqual({ users: 'u', loans: 'l', requests: 'r', refreshClaims: 'c' });
    expect(config.userQueueUrl).toBe('http://queue');
    expect(config.deadLetterQueueArn).toBe('arn:aws:sqs:eu-west-1:000000000000:alma-cache-stg-loan-updated-dlq');
    expect(config.sourceQueueUrl).toBe('https://sqs.eu-west-1.amazonaws.com/000000000000/alma-cache-stg-loan-updated');
    expect(config.expiry.refreshWindowSeconds).toBe(120);
    // The failure queue of the old SNS path is no longer read.
    expect(config).not.toHaveProperty('failureQueueUrl');
  });
});

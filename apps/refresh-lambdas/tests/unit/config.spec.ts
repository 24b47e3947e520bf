import { ConfigurationError } from '@alma-cache/aws-adapters';
import { loadConfig } from '../../src/config';

const COMPLETE = {
  USER_CACHE_TABLE_NAME: 'u',
  LOAN_CACHE_TABLE_NAME: 'l',
  REQUEST_CACHE_TABLE_NAME: 'r',
  FEE_CACHE_TABLE_NAME: 'f',
  ALMA_API_BASE_URL: 'https://api-eu.hosted.exlibrisgroup.com',
  ALMA_API_KEY_NAME: '/alma-cache/stg/alma-api-key',
  ALMA_GUARD_TABLE_NAME: 'g',
  DEAD_LETTER_QUEUE_ARN: 'arn:aws:sqs:eu-west-1:123456789012:alma-cache-stg-loans-dlq',
};

describe('Function: loadConfig', () => {
  it('names every missing variable at once', () => {
    // Act
    const act = () => loadConfig({ USER_CACHE_TABLE_NAME: 'users', LOAN_CACHE_TABLE_NAME: ' ' });

    // Assess
    expect(act).toThrow(ConfigurationError);
    expect(act).toThrow(
      'Missing environment variables: LOAN_CACHE_TABLE_NAME, REQUEST_CACHE_TABLE_NAME, FEE_CACHE_TABLE_NAME, ALMA_API_BASE_URL, ALMA_API_KEY_NAME, ALMA_GUARD_TABLE_NAME, DEAD_LETTER_QUEUE_ARN',
    );
  });

  it('reads the tables, Alma settings with the default ceiling and budget, its DLQ, and the expiry overrides', () => {
    // Act
    const config = loadConfig({ ...COMPLETE, CACHE_USER_TTL_SECONDS: '3600' });

    // Assess
    expect(config.tables).toEqual({ users: 'u', loans: 'l', requests: 'r', fees: 'f' });
    expect(config.alma).toEqual({
      baseUrl: 'https://api-eu.hosted.exlibrisgroup.com',
      apiKeyName: '/alma-cache/stg/alma-api-key',
      maxConcurrentRequests: 4,
      callsPerSecond: 10,
      guardTable: 'g',
    });
    expect(config.deadLetterQueueArn).toBe('arn:aws:sqs:eu-west-1:123456789012:alma-cache-stg-loans-dlq');
    expect(config.expiry.userSeconds).toBe(3600);
  });

  it('takes the per-container Alma ceiling from ALMA_MAX_CONCURRENT_REQUESTS', () => {
    // Act
    const config = loadConfig({ ...COMPLETE, ALMA_MAX_CONCURRENT_REQUESTS: '1' });

    // Assess
    expect(config.alma.maxConcurrentRequests).toBe(1);
  });

  it('takes the stage Alma budget from ALMA_CALLS_PER_SECOND, and refuses one below 2 (it is split in two shares)', () => {
    // Act
    const config = loadConfig({ ...COMPLETE, ALMA_CALLS_PER_SECOND: '4' });
    const act = () => loadConfig({ ...COMPLETE, ALMA_CALLS_PER_SECOND: '1' });

    // Assess
    expect(config.alma.callsPerSecond).toBe(4);
    expect(act).toThrow('ALMA_CALLS_PER_SECOND must be a whole number of at least 2, got "1"');
  });

  it('takes the API key cache time from SECRET_CACHE_TTL_SECONDS, 300 s when unset', () => {
    // Act
    const unset = loadConfig(COMPLETE);
    const set = loadConfig({ ...COMPLETE, SECRET_CACHE_TTL_SECONDS: '60' });

    // Assess
    expect(unset.secretCache).toEqual({ ttlSeconds: 300 });
    expect(set.secretCache).toEqual({ ttlSeconds: 60 });
  });

  it('names a bad SECRET_CACHE_TTL_SECONDS in the one error, beside the other bad variables', () => {
    // Act
    const act = () => loadConfig({ ...COMPLETE, FEE_CACHE_TABLE_NAME: undefined, ALMA_MAX_CONCURRENT_REQUESTS: '0', SECRET_CACHE_TTL_SECONDS: '1h' });

    // Assess
    expect(act).toThrow(ConfigurationError);
    expect(act).toThrow(
      'Missing environment variables: FEE_CACHE_TABLE_NAME. Invalid environment variables: ' +
        'ALMA_MAX_CONCURRENT_REQUESTS must be a whole number of at least 1, got "0"; ' +
        'SECRET_CACHE_TTL_SECONDS must be a whole number of seconds from 1 to 3600, got "1h"',
    );
  });

  it('reports invalid values together with missing ones', () => {
    // Act
    const act = () =>
      loadConfig({ ...COMPLETE, FEE_CACHE_TABLE_NAME: undefined, ALMA_API_KEY_NAME: 'alma-api-key', ALMA_MAX_CONCURRENT_REQUESTS: '0' });

    // Assess
    expect(act).toThrow(
      'Missing environment variables: FEE_CACHE_TABLE_NAME. Invalid environment variables: ' +
        'ALMA_API_KEY_NAME must be an SSM parameter path starting with "/", got "alma-api-key"; ' +
        'ALMA_MAX_CONCURRENT_REQUESTS must be a whole number of at least 1, got "0"',
    );
  });
});

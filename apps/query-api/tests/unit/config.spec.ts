import { ConfigurationError } from '@alma-cache/aws-adapters';
import { DEFAULT_EXPIRY_POLICY } from '@alma-cache/cache-domain';
import { loadConfig } from '../../src/config';

const COMPLETE = {
  USER_CACHE_TABLE_NAME: 'u',
  LOAN_CACHE_TABLE_NAME: 'l',
  REQUEST_CACHE_TABLE_NAME: 'r',
  FEE_CACHE_TABLE_NAME: 'f',
  USER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/alma-cache-stg-users',
  ALMA_API_BASE_URL: 'https://api-eu.hosted.exlibrisgroup.com',
  ALMA_API_KEY_NAME: '/alma-cache/stg/alma-api-key',
  QUERY_LOG_PEPPER_NAME: '/alma-cache/stg/query-log-pepper',
  USER_REFRESH_CLAIM_TABLE_NAME: 'claims',
  ALMA_GUARD_TABLE_NAME: 'guard',
};

describe('Function: loadConfig', () => {
  it('reads the tables, the Users queue and Alma, with the query-time Alma defaults and the stage budget', () => {
    // Act
    const config = loadConfig(COMPLETE);

    // Assess
    expect(config).toEqual({
      tables: { users: 'u', loans: 'l', requests: 'r', fees: 'f' },
      refreshClaimsTable: 'claims',
      almaGuardTable: 'guard',
      usersQueueUrl: COMPLETE.USER_QUEUE_URL,
      alma: {
        baseUrl: COMPLETE.ALMA_API_BASE_URL,
        apiKeyName: COMPLETE.ALMA_API_KEY_NAME,
        maxConcurrentRequests: 4,
        maxAttempts: 2,
        timeoutMs: 4000,
        callsPerSecond: 10,
      },
      secretCache: { ttlSeconds: 300 },
      logPepperName: COMPLETE.QUERY_LOG_PEPPER_NAME,
      access: {},
      expiry: DEFAULT_EXPIRY_POLICY,
    });
  });

  it('reads the client allow-list (blank entries dropped) and the patron id claim', () => {
    // Act
    const config = loadConfig({ ...COMPLETE, QUERY_ALLOWED_CLIENT_IDS: ' library-app, patron-app ,, ', QUERY_PATRON_ID_CLAIM: 'primary_id' });

    // Assess
    expect(config.access).toEqual({ allowedClientIds: ['library-app', 'patron-app'], patronIdClaim: 'primary_id' });
  });

  it('treats a blank allow-list as none: any client', () => {
    // Act
    const config = loadConfig({ ...COMPLETE, QUERY_ALLOWED_CLIENT_IDS: ' , ' });

    // Assess
    expect(config.access).toEqual({});
  });

  it('takes the Alma tuning from the environment', () => {
    // Act
    const config = loadConfig({
      ...COMPLETE,
      ALMA_MAX_CONCURRENT_REQUESTS: '2',
      ALMA_MAX_ATTEMPTS: '1',
      ALMA_TIMEOUT_MS: '1500',
      ALMA_CALLS_PER_SECOND: '5',
    });

    // Assess
    expect(config.alma).toMatchObject({ maxConcurrentRequests: 2, maxAttempts: 1, timeoutMs: 1500, callsPerSecond: 5 });
  });

  it('takes the API key cache time from SECRET_CACHE_TTL_SECONDS', () => {
    // Act
    const config = loadConfig({ ...COMPLETE, SECRET_CACHE_TTL_SECONDS: '60' });

    // Assess
    expect(config.secretCache).toEqual({ ttlSeconds: 60 });
  });

  it('names a bad SECRET_CACHE_TTL_SECONDS in the one error, beside the other bad variables', () => {
    // Act
    const act = () => loadConfig({ ...COMPLETE, ALMA_API_KEY_NAME: 'key', SECRET_CACHE_TTL_SECONDS: '0' });

    // Assess
    expect(act).toThrow(ConfigurationError);
    expect(act).toThrow(
      'Invalid environment variables: ALMA_API_KEY_NAME must be an SSM parameter path starting with "/", got "key"; ' +
        'SECRET_CACHE_TTL_SECONDS must be a whole number of seconds from 1 to 3600, got "0"',
    );
  });

  it('names every missing and invalid variable at once', () => {
    // Act
    const act = () =>
      loadConfig({
        ...COMPLETE,
        USER_QUEUE_URL: ' ',
        FEE_CACHE_TABLE_NAME: undefined,
        ALMA_API_KEY_NAME: 'key',
        QUERY_LOG_PEPPER_NAME: 'pepper',
        ALMA_TIMEOUT_MS: '50',
      });

    // Assess
    expect(act).toThrow(ConfigurationError);
    expect(act).toThrow(
      'Missing environment variables: FEE_CACHE_TABLE_NAME, USER_QUEUE_URL. Invalid environment variables: ' +
        'ALMA_API_KEY_NAME must be an SSM parameter path starting with "/", got "key"; ' +
        'QUERY_LOG_PEPPER_NAME must be an SSM parameter path starting with "/", got "pepper"; ' +
        'ALMA_TIMEOUT_MS must be a whole number of at least 100, got "50"',
    );
  });
});

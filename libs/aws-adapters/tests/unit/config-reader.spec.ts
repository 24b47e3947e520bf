import { DEFAULT_EXPIRY_POLICY } from '@alma-cache/cache-domain';
import { ConfigReader, readConfig } from '../../src/lib/config-reader';
import { ConfigurationError } from '../../src/lib/configuration-error';
import { secretCacheOptionsFromEnv } from '../../src/lib/ssm-secret';

const TABLES = { users: 'USER_CACHE_TABLE_NAME', loans: 'LOAN_CACHE_TABLE_NAME' } as const;

describe('Class: ConfigReader', () => {
  it('reads required variables trimmed, by key, and names the unset or blank ones in the map order', () => {
    // Prepare
    const reader = new ConfigReader({ LOAN_CACHE_TABLE_NAME: '  loans ', USER_QUEUE_URL: ' ' });

    // Act
    const values = reader.required({ ...TABLES, queue: 'USER_QUEUE_URL' });

    // Assess
    expect(values).toEqual({ users: '', loans: 'loans', queue: '' });
    expect(() => reader.throwIfAnyProblem()).toThrow('Missing environment variables: USER_CACHE_TABLE_NAME, USER_QUEUE_URL');
  });

  it('refuses an SSM parameter name that is not a path, and leaves a blank one to the missing list', () => {
    // Prepare
    const reader = new ConfigReader({});

    // Act
    const path = reader.ssmParameterPath('ALMA_API_KEY_NAME', '/alma-cache/stg/alma-api-key');
    const name = reader.ssmParameterPath('QUERY_LOG_PEPPER_NAME', 'pepper');
    reader.ssmParameterPath('ALMA_WEBHOOK_SECRET_NAME', '');

    // Assess
    expect([path, name]).toEqual(['/alma-cache/stg/alma-api-key', 'pepper']);
    expect(() => reader.throwIfAnyProblem()).toThrow(
      'Invalid environment variables: QUERY_LOG_PEPPER_NAME must be an SSM parameter path starting with "/", got "pepper"',
    );
  });

  it.each([
    [undefined, 4],
    ['  ', 4],
    ['7', 7],
    ['100', 100],
  ])('reads the whole number %p as %p', (raw, expected) => {
    // Prepare
    const reader = new ConfigReader({ ALMA_TIMEOUT_MS: raw });

    // Act
    const value = reader.wholeNumber('ALMA_TIMEOUT_MS', 4, raw === '100' ? 100 : 1);

    // Assess
    expect(value).toBe(expected);
    expect(() => reader.throwIfAnyProblem()).not.toThrow();
  });

  it.each(['0', '2.5', 'fast'])('refuses %s below or beside a whole number of at least 1 and keeps the fallback', (raw) => {
    // Prepare
    const reader = new ConfigReader({ ALMA_MAX_ATTEMPTS: raw });

    // Act
    const value = reader.wholeNumber('ALMA_MAX_ATTEMPTS', 2, 1);

    // Assess
    expect(value).toBe(2);
    expect(() => reader.throwIfAnyProblem()).toThrow(`ALMA_MAX_ATTEMPTS must be a whole number of at least 1, got "${raw}"`);
  });

  it('folds the expiry policy problems into the invalid list and answers the defaults meanwhile', () => {
    // Prepare
    const reader = new ConfigReader({ CACHE_USER_TTL_SECONDS: 'soon' });

    // Act
    const policy = reader.expiryPolicy();

    // Assess
    expect(policy).toEqual(DEFAULT_EXPIRY_POLICY);
    expect(() => reader.throwIfAnyProblem()).toThrow(
      'Invalid environment variables: CACHE_USER_TTL_SECONDS must be a positive whole number of seconds, got "soon"',
    );
  });

  it('reads a valid expiry policy override', () => {
    expect(new ConfigReader({ USER_REFRESH_WINDOW_SECONDS: '60' }).expiryPolicy()).toEqual({ ...DEFAULT_EXPIRY_POLICY, refreshWindowSeconds: 60 });
  });

  it('folds in the problems of a reader that throws ConfigurationError, and lets any other error through', () => {
    // Prepare
    const reader = new ConfigReader({ SECRET_CACHE_TTL_SECONDS: '0' });

    // Act
    const options = reader.include(secretCacheOptionsFromEnv, { ttlSeconds: 1 });
    const broken = () =>
      reader.include(() => {
        throw new TypeError('not a configuration problem');
      }, undefined);

    // Assess
    expect(options).toEqual({ ttlSeconds: 1 });
    expect(broken).toThrow(TypeError);
    expect(() => reader.throwIfAnyProblem()).toThrow('SECRET_CACHE_TTL_SECONDS must be a whole number of seconds from 1 to 3600, got "0"');
  });
});

describe('Function: readConfig', () => {
  it('returns what the builder made when nothing is wrong', () => {
    // Act
    const config = readConfig({ USER_CACHE_TABLE_NAME: 'u', LOAN_CACHE_TABLE_NAME: 'l' }, (reader) => reader.required(TABLES));

    // Assess
    expect(config).toEqual({ users: 'u', loans: 'l' });
  });

  it('throws one ConfigurationError naming the missing and the invalid variables, the expiry policy included', () => {
    // Act
    const act = () =>
      readConfig({ LOAN_CACHE_TABLE_NAME: 'l', ALMA_MAX_ATTEMPTS: '0', CACHE_TOMBSTONE_TTL_SECONDS: '-1' }, (reader) => ({
        tables: reader.required(TABLES),
        maxAttempts: reader.wholeNumber('ALMA_MAX_ATTEMPTS', 2, 1),
        expiry: reader.expiryPolicy(),
      }));

    // Assess
    expect(act).toThrow(ConfigurationError);
    expect(act).toThrow(
      'Missing environment variables: USER_CACHE_TABLE_NAME. Invalid environment variables: ALMA_MAX_ATTEMPTS must be a whole number of at least 1, got "0"; ' +
        'CACHE_TOMBSTONE_TTL_SECONDS must be a positive whole number of seconds, got "-1"',
    );
  });

  it('reports invalid values on their own', () => {
    // Act
    const act = () => readConfig({}, (reader) => reader.invalid('CHANGE_TOPIC_ARN is not an SNS topic ARN: "x"'));

    // Assess
    expect(act).toThrow(new ConfigurationError([], ['CHANGE_TOPIC_ARN is not an SNS topic ARN: "x"']));
  });
});

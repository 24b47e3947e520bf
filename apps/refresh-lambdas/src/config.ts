import { type Environment, readConfig, type SecretCacheOptions, secretCacheOptionsFromEnv } from '@alma-cache/aws-adapters';
import type { ExpiryPolicy } from '@alma-cache/cache-domain';

/** The environment the functions read; serverless.yml sets exactly these (plus the SDK's own variables). */
export const ENV = {
  usersTable: 'USER_CACHE_TABLE_NAME',
  loansTable: 'LOAN_CACHE_TABLE_NAME',
  requestsTable: 'REQUEST_CACHE_TABLE_NAME',
  feesTable: 'FEE_CACHE_TABLE_NAME',
  almaApiBaseUrl: 'ALMA_API_BASE_URL',
  almaApiKeyName: 'ALMA_API_KEY_NAME',
  almaGuardTable: 'ALMA_GUARD_TABLE_NAME',
  /** This function's own DLQ (each function has one): where a poison message is sent at once, not received again. */
  deadLetterQueueArn: 'DEAD_LETTER_QUEUE_ARN',
} as const;

/** Optional: Alma requests one container keeps in flight at once. */
export const ALMA_MAX_CONCURRENT_REQUESTS_ENV = 'ALMA_MAX_CONCURRENT_REQUESTS';
export const DEFAULT_ALMA_MAX_CONCURRENT_REQUESTS = 4;

/**
 * Optional: the stage's Alma budget, calls per second for all its functions together (the Alma guard table counts them);
 * at least 2, as it is split between the bulk refresh's share and the query API's (`almaBudgetShares`).
 */
export const ALMA_CALLS_PER_SECOND_ENV = 'ALMA_CALLS_PER_SECOND';
export const DEFAULT_ALMA_CALLS_PER_SECOND = 10;

export interface RefreshTableNames {
  readonly users: string;
  readonly loans: string;
  readonly requests: string;
  readonly fees: string;
}

export interface AlmaConfig {
  /** Alma's regional API host, e.g. `https://api-eu.hosted.exlibrisgroup.com`. */
  readonly baseUrl: string;
  /** The SSM parameter (a SecureString) holding the API key: the name only, never the key. */
  readonly apiKeyName: string;
  readonly maxConcurrentRequests: number;
  /** The stage's Alma budget (calls per second, every function together). */
  readonly callsPerSecond: number;
  /** The Alma guard table: the budget's counters and the patrons Alma does not know. */
  readonly guardTable: string;
}

export interface RefreshLambdasConfig {
  readonly tables: RefreshTableNames;
  readonly alma: AlmaConfig;
  /** How long the Alma API key is served from memory (`SECRET_CACHE_TTL_SECONDS`, default 300). */
  readonly secretCache: SecretCacheOptions;
  /** The DLQ of the queue this function consumes. */
  readonly deadLetterQueueArn: string;
  readonly expiry: ExpiryPolicy;
}

/**
 * Reads the functions' configuration from the environment, reporting every missing or invalid variable at once
 * (the expiry policy's and the secret cache's included).
 *
 * The API key's parameter name must be a path (`/…`): the IAM grant in serverless.yml is built as
 * `parameter${name}`, which only matches the parameter's ARN for a name that starts with a slash.
 *
 * @example
 * const config = loadConfig(process.env);
 * config.alma.maxConcurrentRequests; // 4 unless ALMA_MAX_CONCURRENT_REQUESTS says otherwise
 * @throws ConfigurationError naming every variable to fix
 */
export const loadConfig = (env: Environment): RefreshLambdasConfig =>
  readConfig(env, (reader) => {
    const values = reader.required(ENV);
    return {
      tables: { users: values.usersTable, loans: values.loansTable, requests: values.requestsTable, fees: values.feesTable },
      alma: {
        baseUrl: values.almaApiBaseUrl,
        apiKeyName: reader.ssmParameterPath(ENV.almaApiKeyName, values.almaApiKeyName),
        maxConcurrentRequests: reader.wholeNumber(ALMA_MAX_CONCURRENT_REQUESTS_ENV, DEFAULT_ALMA_MAX_CONCURRENT_REQUESTS, 1),
        callsPerSecond: reader.wholeNumber(ALMA_CALLS_PER_SECOND_ENV, DEFAULT_ALMA_CALLS_PER_SECOND, 2),
        guardTable: values.almaGuardTable,
      },
      secretCache: reader.include(secretCacheOptionsFromEnv, {}),
      deadLetterQueueArn: values.deadLetterQueueArn,
      expiry: reader.expiryPolicy(),
    };
  });

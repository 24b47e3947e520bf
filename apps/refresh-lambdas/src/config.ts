import { ConfigurationError } from '@alma-cache/aws-adapters';
import { type ExpiryPolicy, resolveExpiryPolicy } from '@alma-cache/cache-domain';

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

/** Optional: the stage's Alma budget, calls per second for all its functions together (the Alma guard table counts them). */
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
  /** The DLQ of the queue this function consumes. */
  readonly deadLetterQueueArn: string;
  readonly expiry: ExpiryPolicy;
}

const parseAtLeastOne = (name: string, raw: string | undefined, fallback: number, invalid: string[]): number => {
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (Number.isInteger(value) && value >= 1) return value;
  invalid.push(`${name} must be a whole number of at least 1, got "${raw}"`);
  return fallback;
};

/**
 * Reads the functions' configuration from the environment, reporting every missing or invalid variable at once.
 *
 * The API key's parameter name must be a path (`/…`): the IAM grant in serverless.yml is built as
 * `parameter${name}`, which only matches the parameter's ARN for a name that starts with a slash.
 *
 * @example
 * const config = loadConfig(process.env);
 * config.alma.maxConcurrentRequests; // 4 unless ALMA_MAX_CONCURRENT_REQUESTS says otherwise
 */
export const loadConfig = (env: Readonly<Record<string, string | undefined>>): RefreshLambdasConfig => {
  const missing = Object.values(ENV).filter((name) => !env[name]?.trim());
  const invalid: string[] = [];
  const read = (name: string) => (env[name] ?? '').trim();
  const apiKeyName = read(ENV.almaApiKeyName);
  if (apiKeyName && !apiKeyName.startsWith('/')) {
    invalid.push(`${ENV.almaApiKeyName} must be an SSM parameter path starting with "/", got "${apiKeyName}"`);
  }
  const maxConcurrentRequests = parseAtLeastOne(ALMA_MAX_CONCURRENT_REQUESTS_ENV, env[ALMA_MAX_CONCURRENT_REQUESTS_ENV], DEFAULT_ALMA_MAX_CONCURRENT_REQUESTS, invalid);
  const callsPerSecond = parseAtLeastOne(ALMA_CALLS_PER_SECOND_ENV, env[ALMA_CALLS_PER_SECOND_ENV], DEFAULT_ALMA_CALLS_PER_SECOND, invalid);
  if (missing.length > 0 || invalid.length > 0) throw new ConfigurationError(missing, invalid);
  return {
    tables: {
      users: read(ENV.usersTable),
      loans: read(ENV.loansTable),
      requests: read(ENV.requestsTable),
      fees: read(ENV.feesTable),
    },
    alma: { baseUrl: read(ENV.almaApiBaseUrl), apiKeyName, maxConcurrentRequests, callsPerSecond, guardTable: read(ENV.almaGuardTable) },
    deadLetterQueueArn: read(ENV.deadLetterQueueArn),
    expiry: resolveExpiryPolicy(env),
  };
};

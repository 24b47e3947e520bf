import {
  type CacheReaderTableNames,
  type Environment,
  readConfig,
  type SecretCacheOptions,
  secretCacheOptionsFromEnv,
} from '@alma-cache/aws-adapters';
import type { ExpiryPolicy, QueryAccessPolicy } from '@alma-cache/cache-domain';

/** The environment the function reads; serverless.yml sets exactly these (plus the SDK's own variables). */
export const ENV = {
  usersTable: 'USER_CACHE_TABLE_NAME',
  loansTable: 'LOAN_CACHE_TABLE_NAME',
  requestsTable: 'REQUEST_CACHE_TABLE_NAME',
  feesTable: 'FEE_CACHE_TABLE_NAME',
  usersQueueUrl: 'USER_QUEUE_URL',
  refreshClaimsTable: 'USER_REFRESH_CLAIM_TABLE_NAME',
  almaGuardTable: 'ALMA_GUARD_TABLE_NAME',
  almaApiBaseUrl: 'ALMA_API_BASE_URL',
  almaApiKeyName: 'ALMA_API_KEY_NAME',
  logPepperName: 'QUERY_LOG_PEPPER_NAME',
} as const;

/**
 * Optional narrowing of who may call (see `QueryAccessPolicy`): a comma-separated allow-list of OAuth client ids
 * (unset or blank: any client), and the claim naming a patron token's patron (unset: `sub`).
 */
export const ACCESS_ENV = {
  allowedClientIds: 'QUERY_ALLOWED_CLIENT_IDS',
  patronIdClaim: 'QUERY_PATRON_ID_CLAIM',
} as const;

/**
 * Optional tuning of the Alma client, with the defaults a query can afford: a caller is waiting, so a miss gets two
 * short tries rather than the bulk refresh's six long ones, and a struggling Alma turns into a 429/503 quickly.
 */
export const ALMA_TUNING = {
  maxConcurrentRequests: { env: 'ALMA_MAX_CONCURRENT_REQUESTS', default: 4, min: 1 },
  maxAttempts: { env: 'ALMA_MAX_ATTEMPTS', default: 2, min: 1 },
  timeoutMs: { env: 'ALMA_TIMEOUT_MS', default: 4000, min: 100 },
  /**
   * The stage's budget, shared with the bulk refresh: calls per second for every function together, at least 2 as it
   * is split into the bulk refresh's reserved share and the misses' (`almaBudgetShares`).
   */
  callsPerSecond: { env: 'ALMA_CALLS_PER_SECOND', default: 10, min: 2 },
} as const;

export interface QueryAlmaConfig {
  /** Alma's regional API host, e.g. `https://api-eu.hosted.exlibrisgroup.com`. */
  readonly baseUrl: string;
  /** The SSM parameter (a SecureString) holding the API key: the name only, never the key. */
  readonly apiKeyName: string;
  readonly maxConcurrentRequests: number;
  readonly maxAttempts: number;
  readonly timeoutMs: number;
  readonly callsPerSecond: number;
}

export interface QueryApiConfig {
  readonly tables: CacheReaderTableNames;
  /** The webhooks' refresh claims: a miss takes the same claim, so queries and webhooks rebuild a patron once per window. */
  readonly refreshClaimsTable: string;
  /** The Alma guard table: the stage's Alma budget and the patrons Alma does not know. */
  readonly almaGuardTable: string;
  readonly usersQueueUrl: string;
  readonly alma: QueryAlmaConfig;
  /** How long the Alma API key is served from memory (`SECRET_CACHE_TTL_SECONDS`, default 300). */
  readonly secretCache: SecretCacheOptions;
  /** The SSM SecureString holding the per-stage pepper of the patron id hashes in the log lines: the name only. */
  readonly logPepperName: string;
  readonly access: QueryAccessPolicy;
  /** The refresh window, the records' lifetimes and the negative cache's time (CACHE_*_TTL_SECONDS, ALMA_UNKNOWN_PATRON_TTL_SECONDS). */
  readonly expiry: ExpiryPolicy;
}

/**
 * Reads the function's configuration from the environment, reporting every missing or invalid variable at once.
 * The API key's and the log pepper's parameter names must be paths (`/…`), as the IAM grants in serverless.yml are
 * `parameter${name}`.
 *
 * @example
 * const config = loadConfig(process.env);
 * config.alma.maxAttempts; // 2 unless ALMA_MAX_ATTEMPTS says otherwise
 * @throws ConfigurationError naming every variable to fix
 */
export const loadConfig = (env: Environment): QueryApiConfig =>
  readConfig(env, (reader) => {
    const values = reader.required(ENV);
    const apiKeyName = reader.ssmParameterPath(ENV.almaApiKeyName, values.almaApiKeyName);
    const logPepperName = reader.ssmParameterPath(ENV.logPepperName, values.logPepperName);
    // Client ids are opaque strings; a blank entry (a trailing comma) is dropped rather than allowing an empty id.
    const allowedClientIds = reader
      .optional(ACCESS_ENV.allowedClientIds)
      .split(',')
      .map((id) => id.trim())
      .filter((id) => id !== '');
    const patronIdClaim = reader.optional(ACCESS_ENV.patronIdClaim);
    const tuned = (tuning: { env: string; default: number; min: number }) => reader.wholeNumber(tuning.env, tuning.default, tuning.min);
    return {
      tables: { users: values.usersTable, loans: values.loansTable, requests: values.requestsTable, fees: values.feesTable },
      refreshClaimsTable: values.refreshClaimsTable,
      almaGuardTable: values.almaGuardTable,
      usersQueueUrl: values.usersQueueUrl,
      alma: {
        baseUrl: values.almaApiBaseUrl,
        apiKeyName,
        maxConcurrentRequests: tuned(ALMA_TUNING.maxConcurrentRequests),
        maxAttempts: tuned(ALMA_TUNING.maxAttempts),
        timeoutMs: tuned(ALMA_TUNING.timeoutMs),
        callsPerSecond: tuned(ALMA_TUNING.callsPerSecond),
      },
      secretCache: reader.include(secretCacheOptionsFromEnv, {}),
      logPepperName,
      access: { ...(allowedClientIds.length > 0 ? { allowedClientIds } : {}), ...(patronIdClaim ? { patronIdClaim } : {}) },
      expiry: reader.expiryPolicy(),
    };
  });

import { type CacheTableNames, ConfigurationError } from '@alma-cache/aws-adapters';
import { type ExpiryPolicy, resolveExpiryPolicy } from '@alma-cache/cache-domain';

/** The environment the functions read; serverless.yml sets exactly these (plus the SDK's own variables). */
export const ENV = {
  usersTable: 'USER_CACHE_TABLE_NAME',
  loansTable: 'LOAN_CACHE_TABLE_NAME',
  requestsTable: 'REQUEST_CACHE_TABLE_NAME',
  refreshClaimsTable: 'USER_REFRESH_CLAIM_TABLE_NAME',
  userQueueUrl: 'USER_QUEUE_URL',
  /** The failure queue (also the on-failure destination): where an event refused as invalid is parked at once. */
  failureQueueUrl: 'FAILURE_QUEUE_URL',
} as const;

export interface SnsLambdasConfig {
  readonly tables: CacheTableNames;
  readonly userQueueUrl: string;
  readonly failureQueueUrl: string;
  readonly expiry: ExpiryPolicy;
}

/**
 * Reads the functions' configuration from the environment, reporting every missing variable at once.
 *
 * @example
 * const config = loadConfig(process.env);
 */
export const loadConfig = (env: Readonly<Record<string, string | undefined>>): SnsLambdasConfig => {
  const missing = Object.values(ENV).filter((name) => !env[name]);
  if (missing.length > 0) throw new ConfigurationError(missing);
  const read = (name: string) => env[name] as string;
  return {
    tables: {
      users: read(ENV.usersTable),
      loans: read(ENV.loansTable),
      requests: read(ENV.requestsTable),
      refreshClaims: read(ENV.refreshClaimsTable),
    },
    userQueueUrl: read(ENV.userQueueUrl),
    failureQueueUrl: read(ENV.failureQueueUrl),
    expiry: resolveExpiryPolicy(env),
  };
};

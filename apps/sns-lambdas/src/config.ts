import { type CacheTableNames, type Environment, readConfig } from '@alma-cache/aws-adapters';
import type { ExpiryPolicy } from '@alma-cache/cache-domain';

/** The environment the functions read; serverless.yml sets exactly these (plus the SDK's own variables). */
export const ENV = {
  usersTable: 'USER_CACHE_TABLE_NAME',
  loansTable: 'LOAN_CACHE_TABLE_NAME',
  requestsTable: 'REQUEST_CACHE_TABLE_NAME',
  refreshClaimsTable: 'USER_REFRESH_CLAIM_TABLE_NAME',
  userQueueUrl: 'USER_QUEUE_URL',
  /** Set per function: the ARN of the DLQ of its own queue, where an event refused as invalid is sent at once. */
  deadLetterQueueArn: 'DEAD_LETTER_QUEUE_ARN',
  /**
   * Set per function: the URL of its own queue, where an SNS event reaching it during the upgrade from the SNS path is
   * forwarded (sns-upgrade-forwarder.ts). For one release: it goes with the forwarder.
   */
  sourceQueueUrl: 'SOURCE_QUEUE_URL',
} as const;

export interface SnsLambdasConfig {
  readonly tables: CacheTableNames;
  readonly userQueueUrl: string;
  /** The DLQ of the function's own queue. */
  readonly deadLetterQueueArn: string;
  /** The function's own queue, for the upgrade forwarder (one release). */
  readonly sourceQueueUrl: string;
  readonly expiry: ExpiryPolicy;
}

/**
 * Reads the functions' configuration from the environment, reporting every missing or invalid variable at once.
 *
 * @example
 * const config = loadConfig(process.env);
 * @throws ConfigurationError naming every variable to fix
 */
export const loadConfig = (env: Environment): SnsLambdasConfig =>
  readConfig(env, (reader) => {
    const values = reader.required(ENV);
    return {
      tables: { users: values.usersTable, loans: values.loansTable, requests: values.requestsTable, refreshClaims: values.refreshClaimsTable },
      userQueueUrl: values.userQueueUrl,
      deadLetterQueueArn: values.deadLetterQueueArn,
      sourceQueueUrl: values.sourceQueueUrl,
      expiry: reader.expiryPolicy(),
    };
  });

import { type CacheTableNames, type Environment, readConfig } from '@alma-cache/aws-adapters';
import type { ExpiryPolicy } from '@alma-cache/cache-domain';

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

/**
 * Set per function on the queue path (issue 19): the ARN of the DLQ of the function's own queue, where an event refused
 * as invalid is sent at once (sqs-handler.ts). Optional while the SNS path is still the deployed one.
 */
export const DEAD_LETTER_QUEUE_ENV = 'DEAD_LETTER_QUEUE_ARN';

export interface SnsLambdasConfig {
  readonly tables: CacheTableNames;
  readonly userQueueUrl: string;
  readonly failureQueueUrl: string;
  /** The function's own DLQ ({@link DEAD_LETTER_QUEUE_ENV}), when it reads a queue. */
  readonly deadLetterQueueArn?: string;
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
    const deadLetterQueueArn = reader.optional(DEAD_LETTER_QUEUE_ENV);
    return {
      tables: { users: values.usersTable, loans: values.loansTable, requests: values.requestsTable, refreshClaims: values.refreshClaimsTable },
      userQueueUrl: values.userQueueUrl,
      failureQueueUrl: values.failureQueueUrl,
      ...(deadLetterQueueArn ? { deadLetterQueueArn } : {}),
      expiry: reader.expiryPolicy(),
    };
  });

import { type Environment, readConfig, secretCacheOptionsFromEnv } from '@alma-cache/aws-adapters';
import { DEFAULT_AUDIT_GRACE_SECONDS } from '@alma-cache/cache-domain';
import {
  ALMA_CALLS_PER_SECOND_ENV,
  ALMA_MAX_CONCURRENT_REQUESTS_ENV,
  type AlmaConfig,
  DEFAULT_ALMA_CALLS_PER_SECOND,
  ENV,
  type RefreshLambdasConfig,
} from './config';

/** The audit's own variables (serverless.yml sets them from per-stage deploy settings). */
export const AUDIT_ENV = {
  /** Patrons audited per run. */
  sampleSize: 'AUDIT_SAMPLE_SIZE',
  /** Records changed more recently than this many seconds are not counted as drift. */
  graceSeconds: 'AUDIT_GRACE_SECONDS',
  /** `true` (the default): the scheduled run repairs what it finds; `false`: it only reports. */
  repair: 'AUDIT_REPAIR',
  /** The SSM SecureString of the per-stage pepper of patron id hashes (the query API's): the name only. */
  logPepperName: 'AUDIT_LOG_PEPPER_NAME',
} as const;

/**
 * 60 patrons per run, one run an hour: 3 Alma calls a patron (one page each for most patrons) is 180 calls a run,
 * 4,320 a day, spread over about a minute an hour at most 3 calls/s (the refresh share at the default budget).
 */
export const DEFAULT_AUDIT_SAMPLE_SIZE = 60;
/** At most this many patrons per run: 15 minutes of Lambda at 3 calls a patron and the refresh share of 3 calls/s. */
export const MAX_AUDIT_SAMPLE_SIZE = 2_000;
/** The audit's Alma requests in flight at once: one patron at a time, its requests and fees lists side by side. */
export const AUDIT_ALMA_MAX_CONCURRENT_REQUESTS = 2;

export interface AuditSettings {
  readonly sampleSize: number;
  readonly graceSeconds: number;
  readonly repair: boolean;
  readonly logPepperName: string;
}

/** The audit function's configuration: the refresh's tables, Alma access and expiry, without a queue, plus its own. */
export interface AuditConfig extends Omit<RefreshLambdasConfig, 'deadLetterQueueArn'> {
  readonly audit: AuditSettings;
}

/**
 * Reads the audit function's configuration, every missing or invalid variable reported at once.
 *
 * @example
 * const config = loadAuditConfig(process.env);
 * config.audit.sampleSize; // 60 unless AUDIT_SAMPLE_SIZE says otherwise
 * @throws ConfigurationError naming every variable to fix
 */
export const loadAuditConfig = (env: Environment): AuditConfig =>
  readConfig(env, (reader) => {
    // The refresh's variables but the DLQ: a scheduled function has no queue of its own.
    const values = reader.required({
      usersTable: ENV.usersTable,
      loansTable: ENV.loansTable,
      requestsTable: ENV.requestsTable,
      feesTable: ENV.feesTable,
      almaApiBaseUrl: ENV.almaApiBaseUrl,
      almaApiKeyName: ENV.almaApiKeyName,
      almaGuardTable: ENV.almaGuardTable,
      logPepperName: AUDIT_ENV.logPepperName,
    });
    const sampleSize = reader.wholeNumber(AUDIT_ENV.sampleSize, DEFAULT_AUDIT_SAMPLE_SIZE, 1);
    if (sampleSize > MAX_AUDIT_SAMPLE_SIZE) reader.invalid(`${AUDIT_ENV.sampleSize} must be at most ${MAX_AUDIT_SAMPLE_SIZE}, got ${sampleSize}`);
    const repair = reader.optional(AUDIT_ENV.repair) || 'true';
    if (repair !== 'true' && repair !== 'false') reader.invalid(`${AUDIT_ENV.repair} must be true or false, got ${JSON.stringify(repair)}`);
    const alma: AlmaConfig = {
      baseUrl: values.almaApiBaseUrl,
      apiKeyName: reader.ssmParameterPath(ENV.almaApiKeyName, values.almaApiKeyName),
      // Not ALMA_MAX_CONCURRENT_REQUESTS: the audit is background work and keeps to its own small ceiling.
      maxConcurrentRequests: reader.wholeNumber(ALMA_MAX_CONCURRENT_REQUESTS_ENV, AUDIT_ALMA_MAX_CONCURRENT_REQUESTS, 1),
      callsPerSecond: reader.wholeNumber(ALMA_CALLS_PER_SECOND_ENV, DEFAULT_ALMA_CALLS_PER_SECOND, 1),
      guardTable: values.almaGuardTable,
    };
    return {
      tables: { users: values.usersTable, loans: values.loansTable, requests: values.requestsTable, fees: values.feesTable },
      alma,
      secretCache: reader.include(secretCacheOptionsFromEnv, {}),
      expiry: reader.expiryPolicy(),
      audit: {
        sampleSize,
        graceSeconds: reader.wholeNumber(AUDIT_ENV.graceSeconds, DEFAULT_AUDIT_GRACE_SECONDS, 0),
        repair: repair !== 'false',
        logPepperName: reader.ssmParameterPath(AUDIT_ENV.logPepperName, values.logPepperName),
      },
    };
  });

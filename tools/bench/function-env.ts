import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { CacheTableNames } from '@alma-cache/aws-adapters';
import { WORKSPACE } from './workspace';

/** The apps whose built functions the bench starts. */
export const BENCH_APPS = ['sns-lambdas', 'refresh-lambdas', 'query-api', 'webhook-receiver', 'change-lambdas'] as const;
export type BenchApp = (typeof BENCH_APPS)[number];

/** A short label for tables and charts. */
export const APP_LABEL: Record<BenchApp, string> = {
  'sns-lambdas': 'sns',
  'refresh-lambdas': 'refresh',
  'query-api': 'query',
  'webhook-receiver': 'webhook',
  'change-lambdas': 'change',
};

/** The SSM parameter the bench's fake SSM answers for the query API's log pepper. */
export const BENCH_SSM_PREFIX = '/alma-cache/bench/';

const TABLE_ROLES: Record<string, keyof CacheTableNames> = {
  USER_CACHE_TABLE_NAME: 'users',
  LOAN_CACHE_TABLE_NAME: 'loans',
  REQUEST_CACHE_TABLE_NAME: 'requests',
  FEE_CACHE_TABLE_NAME: 'fees',
  USER_REFRESH_CLAIM_TABLE_NAME: 'refreshClaims',
};

/** Every variable serverless.yml sets for the app's functions (provider and per function), names only. */
export const deployedVariables = (app: BenchApp): string[] => {
  const template = parse(readFileSync(join(WORKSPACE, 'apps', app, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as {
    provider?: { environment?: Record<string, unknown> };
    functions?: Record<string, { environment?: Record<string, unknown> } | null>;
  };
  const names = new Set(Object.keys(template.provider?.environment ?? {}));
  for (const fn of Object.values(template.functions ?? {})) for (const name of Object.keys(fn?.environment ?? {})) names.add(name);
  return [...names].sort();
};

/** A value that needs no network at import and reaches nothing by accident: tables on the bench's emulator, dead ports elsewhere. */
const benchValue = (name: string, app: BenchApp, tables: Required<CacheTableNames>): string | undefined => {
  const role = TABLE_ROLES[name];
  if (role) return tables[role];
  if (name === 'POWERTOOLS_SERVICE_NAME') return `alma-cache-${app}-bench`;
  if (name.endsWith('_TABLE_NAME')) return `alma-cache-bench-${name.slice(0, -'_TABLE_NAME'.length).toLowerCase().replace(/_/g, '-')}`;
  if (name.endsWith('_QUEUE_URL')) return `http://127.0.0.1:9/000000000000/bench-${name.toLowerCase().replace(/_/g, '-')}`;
  if (name.endsWith('_TOPIC_ARN')) return `arn:aws:sns:eu-west-1:000000000000:bench-${name.toLowerCase().replace(/_/g, '-')}`;
  if (name.endsWith('_QUEUE_ARN')) return `arn:aws:sqs:eu-west-1:000000000000:bench-${name.toLowerCase().replace(/_/g, '-')}`;
  if (name.endsWith('_BASE_URL')) return 'http://127.0.0.1:9';
  // SSM parameter names (the Alma key, the webhook secret, the log pepper): paths, as the configs require.
  if (name.endsWith('_NAME')) return `${BENCH_SSM_PREFIX}${name.toLowerCase().replace(/_/g, '-')}`;
  // Tuning (ALMA_CALLS_PER_SECOND, LOG_LEVEL, …): left to the function's own default.
  return undefined;
};

/**
 * The environment Lambda gives the app's functions, read from its serverless.yml so that a variable added there is
 * set here too, with bench values: the cache tables on DynamoDB Local, unreachable queues and topics, SSM names under
 * {@link BENCH_SSM_PREFIX}, tracing off unless `tracing` says otherwise.
 *
 * @example
 * const env = functionEnv('query-api', tables, { AWS_REGION: 'eu-west-1' });
 * env['QUERY_LOG_PEPPER_NAME']; // '/alma-cache/bench/query-log-pepper-name'
 */
export const functionEnv = (
  app: BenchApp,
  tables: Required<CacheTableNames>,
  awsEnv: Record<string, string>,
  tracing = false,
): Record<string, string> => {
  const env: Record<string, string> = { PATH: process.env['PATH'] ?? '', ...awsEnv };
  for (const name of deployedVariables(app)) {
    const value = benchValue(name, app, tables);
    if (value !== undefined) env[name] = value;
  }
  // Set whether or not serverless.yml names them: source maps as deployed, tracing as the caller asks.
  env['NODE_OPTIONS'] = '--enable-source-maps';
  env['POWERTOOLS_TRACE_ENABLED'] = tracing ? 'true' : 'false';
  return env;
};

/**
 * What Lambda adds around a traced function, for the tracing pairs only: Powertools' Tracer and the X-Ray SDK look for
 * a Lambda runtime and a trace header before they instrument anything. Both sides of a pair get it.
 */
export const LAMBDA_RUNTIME_ENV: Record<string, string> = {
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
  AWS_LAMBDA_FUNCTION_NAME: 'alma-cache-bench',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
  _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
};

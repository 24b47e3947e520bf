import { childEnv as childProcessEnv, WORKSPACE_ROOT } from '@alma-cache/local-aws';
import { join } from 'node:path';

/** Shared by the deploy specs: the contract they check, and how they run the repo's own scripts. */

export const APP = 'apps/refresh-lambdas';
export const APP_DIR = join(WORKSPACE_ROOT, APP);
export const DIST = 'dist/apps/refresh-lambdas';
export const SERVICE = 'alma-cache-refresh';
export const REGION = 'eu-west-1';

export const FUNCTIONS = ['update-user', 'update-loan', 'update-request', 'update-fee'] as const;
export type FunctionKey = (typeof FUNCTIONS)[number];
export const ITEM_FUNCTIONS = ['update-loan', 'update-request', 'update-fee'] as const;
/** The drift audit: on an EventBridge schedule, not a queue. */
export const AUDIT_FUNCTION = 'audit-cache';
/** Every function of the stack: the queue-triggered ones, then the scheduled audit. */
export const ALL_FUNCTIONS = [...FUNCTIONS, AUDIT_FUNCTION] as const;
export type AnyFunctionKey = (typeof ALL_FUNCTIONS)[number];
export type ItemFunctionKey = (typeof ITEM_FUNCTIONS)[number];

/** The queue each item function consumes and the table it writes. */
export const ITEM_OF: Record<ItemFunctionKey, { queue: 'loans' | 'requests' | 'fees'; table: 'loans' | 'requests' | 'fees' }> = {
  'update-loan': { queue: 'loans', table: 'loans' },
  'update-request': { queue: 'requests', table: 'requests' },
  'update-fee': { queue: 'fees', table: 'fees' },
};

/** Physical names for a stage: `alma-cache-<stage>-…` for the cache's tables and queues. */
export const namesFor = (stage: 'stg' | 'prod') => ({
  stack: `${SERVICE}-${stage}`,
  function: (fn: AnyFunctionKey) => `${SERVICE}-${stage}-${fn}`,
  /** The cache-update stack's export names this stack imports. */
  cacheUpdateExport: (name: 'UsersQueueArn' | 'UsersDeadLetterQueueArn' | 'UsersTableName' | 'LoansTableName' | 'RequestsTableName') =>
    `alma-cache-${stage}-${name}`,
  feesTable: `alma-cache-${stage}-fees`,
  guardTable: `alma-cache-${stage}-alma-guard`,
  queues: {
    loans: `alma-cache-${stage}-loans`,
    loansDlq: `alma-cache-${stage}-loans-dlq`,
    requests: `alma-cache-${stage}-requests`,
    requestsDlq: `alma-cache-${stage}-requests-dlq`,
    fees: `alma-cache-${stage}-fees`,
    feesDlq: `alma-cache-${stage}-fees-dlq`,
  },
  defaultApiKeyName: `/alma-cache/${stage}/alma-api-key`,
});

/** The per-stage overrides of the cache-update stack's exports, as serverless.yml reads them. */
export const overrideEnv = (
  stage: 'stg' | 'prod',
  values: { usersQueueArn: string; usersDeadLetterQueueArn: string; usersTable: string; loansTable: string; requestsTable: string },
): Record<string, string> => {
  const suffix = stage.toUpperCase();
  return {
    [`USER_QUEUE_ARN_${suffix}`]: values.usersQueueArn,
    [`USER_DLQ_ARN_${suffix}`]: values.usersDeadLetterQueueArn,
    [`USER_CACHE_TABLE_NAME_${suffix}`]: values.usersTable,
    [`LOAN_CACHE_TABLE_NAME_${suffix}`]: values.loansTable,
    [`REQUEST_CACHE_TABLE_NAME_${suffix}`]: values.requestsTable,
  };
};

/**
 * What the cache-update stack's outputs hold for a stage: what `${cf:alma-cache-sns-<stage>.<Output>}` reads at deploy
 * time. An offline package cannot call DescribeStacks, so the template spec hands them over as the overrides.
 */
export const cacheUpdateOutputs = (stage: 'stg' | 'prod') => ({
  UsersQueueArn: `arn:aws:sqs:${REGION}:000000000000:alma-cache-${stage}-users`,
  UsersDeadLetterQueueArn: `arn:aws:sqs:${REGION}:000000000000:alma-cache-${stage}-users-dlq`,
  UsersTableName: `alma-cache-${stage}-users`,
  LoansTableName: `alma-cache-${stage}-loans`,
  RequestsTableName: `alma-cache-${stage}-requests`,
});

/** {@link cacheUpdateOutputs} as the per-stage override variables. */
export const cacheUpdateOutputEnv = (stage: 'stg' | 'prod'): Record<string, string> => {
  const outputs = cacheUpdateOutputs(stage);
  return overrideEnv(stage, {
    usersQueueArn: outputs.UsersQueueArn,
    usersDeadLetterQueueArn: outputs.UsersDeadLetterQueueArn,
    usersTable: outputs.UsersTableName,
    loansTable: outputs.LoansTableName,
    requestsTable: outputs.RequestsTableName,
  });
};

export { NX_BIN, runNode, tail, WORKSPACE_ROOT, type RunResult } from '@alma-cache/local-aws';

/** The environment for a child process, without the variables that would change what this app's stack resolves. */
export const childEnv = (extra: Record<string, string>): NodeJS.ProcessEnv =>
  childProcessEnv(extra, [/^(ALMA_|REFRESH_LAMBDAS_)/, /^(USER_QUEUE_(ARN|URL)|USER_DLQ_ARN|(USER|LOAN|REQUEST|FEE)_CACHE_TABLE_NAME)(_|$)/]);

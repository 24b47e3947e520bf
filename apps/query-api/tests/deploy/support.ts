import { childEnv as childProcessEnv, WORKSPACE_ROOT } from '@alma-cache/local-aws';
import { join } from 'node:path';

/** Shared by the deploy specs: the contract they check, and how they run the repo's own scripts. */

export const APP = 'apps/query-api';
export const APP_DIR = join(WORKSPACE_ROOT, APP);
export const DIST = 'dist/apps/query-api';
export const SERVICE = 'alma-cache-query';
export const FUNCTION = 'query-api';

/** Physical names for a stage. */
export const namesFor = (stage: 'stg' | 'prod') => ({
  stack: `${SERVICE}-${stage}`,
  function: `${SERVICE}-${stage}-${FUNCTION}`,
  httpApi: `${SERVICE}-${stage}`,
  /** The cache-update stack's and the refresh stack's export names this stack imports. */
  imported: (
    name:
      | 'UsersTableName'
      | 'LoansTableName'
      | 'RequestsTableName'
      | 'FeesTableName'
      | 'UserRefreshClaimsTableName'
      | 'AlmaGuardTableName'
      | 'UsersQueueUrl'
      | 'UsersQueueArn',
  ) => `alma-cache-${stage}-${name}`,
  defaultApiKeyName: `/alma-cache/${stage}/alma-api-key`,
  defaultLogPepperName: `/alma-cache/${stage}/query-log-pepper`,
});

/** The per-stage JWT settings serverless.yml requires. */
export const jwtEnv = (stage: 'stg' | 'prod', issuer = `https://issuer.example.com/${stage}`, audience = `query-api-${stage}`) => ({
  [`QUERY_API_JWT_ISSUER_${stage.toUpperCase()}`]: issuer,
  [`QUERY_API_JWT_AUDIENCE_${stage.toUpperCase()}`]: audience,
});

type ReadOutput = Parameters<ReturnType<typeof namesFor>['imported']>[0];

/**
 * What the cache-update stack's and the refresh stack's outputs hold for a stage: what `${cf:<stack>.<Output>}` reads at
 * deploy time. An offline package cannot call DescribeStacks, so the template spec hands them over as the overrides.
 */
export const producerOutputs = (stage: 'stg' | 'prod'): Record<ReadOutput, string> => ({
  UsersTableName: `alma-cache-${stage}-users`,
  LoansTableName: `alma-cache-${stage}-loans`,
  RequestsTableName: `alma-cache-${stage}-requests`,
  FeesTableName: `alma-cache-${stage}-fees`,
  UserRefreshClaimsTableName: `alma-cache-${stage}-user-refresh-claims`,
  AlmaGuardTableName: `alma-cache-${stage}-alma-guard`,
  UsersQueueUrl: `https://sqs.eu-west-1.amazonaws.com/000000000000/alma-cache-${stage}-users`,
  UsersQueueArn: `arn:aws:sqs:eu-west-1:000000000000:alma-cache-${stage}-users`,
});

/** {@link producerOutputs} as the per-stage override variables serverless.yml reads first. */
export const producerOutputEnv = (stage: 'stg' | 'prod'): Record<string, string> => {
  const outputs = producerOutputs(stage);
  const suffix = stage.toUpperCase();
  return {
    [`USER_CACHE_TABLE_NAME_${suffix}`]: outputs.UsersTableName,
    [`LOAN_CACHE_TABLE_NAME_${suffix}`]: outputs.LoansTableName,
    [`REQUEST_CACHE_TABLE_NAME_${suffix}`]: outputs.RequestsTableName,
    [`FEE_CACHE_TABLE_NAME_${suffix}`]: outputs.FeesTableName,
    [`USER_REFRESH_CLAIM_TABLE_NAME_${suffix}`]: outputs.UserRefreshClaimsTableName,
    [`ALMA_GUARD_TABLE_NAME_${suffix}`]: outputs.AlmaGuardTableName,
    [`USER_QUEUE_URL_${suffix}`]: outputs.UsersQueueUrl,
    [`USER_QUEUE_ARN_${suffix}`]: outputs.UsersQueueArn,
  };
};

export { NX_BIN, runNode, tail, WORKSPACE_ROOT, type RunResult } from '@alma-cache/local-aws';

/** The environment for a child process, without the variables that would change what this app's stack resolves. */
export const childEnv = (extra: Record<string, string>): NodeJS.ProcessEnv =>
  childProcessEnv(extra, [
    /^(ALMA_|QUERY_API_)/,
    /^(USER_QUEUE_(ARN|URL)|(USER|LOAN|REQUEST|FEE)_CACHE_TABLE_NAME|USER_REFRESH_CLAIM_TABLE_NAME)(_|$)/,
  ]);

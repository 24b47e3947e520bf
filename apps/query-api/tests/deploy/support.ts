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
  /** The foundation's and the refresh stack's export names this stack imports. */
  imported: (name: 'UsersTableName' | 'LoansTableName' | 'RequestsTableName' | 'FeesTableName' | 'UsersQueueUrl' | 'UsersQueueArn') =>
    `alma-cache-${stage}-${name}`,
  defaultApiKeyName: `/alma-cache/${stage}/alma-api-key`,
});

/** The per-stage JWT settings serverless.yml requires. */
export const jwtEnv = (stage: 'stg' | 'prod', issuer = `https://issuer.example.com/${stage}`, audience = `query-api-${stage}`) => ({
  [`QUERY_API_JWT_ISSUER_${stage.toUpperCase()}`]: issuer,
  [`QUERY_API_JWT_AUDIENCE_${stage.toUpperCase()}`]: audience,
});

export { NX_BIN, runNode, tail, WORKSPACE_ROOT, type RunResult } from '@alma-cache/local-aws';

/** The environment for a child process, without the variables that would change what this app's stack resolves. */
export const childEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => childProcessEnv(extra, [/^(ALMA_|QUERY_API_)/, /^(USER_QUEUE_(ARN|URL)|(USER|LOAN|REQUEST|FEE)_CACHE_TABLE_NAME)(_|$)/]);

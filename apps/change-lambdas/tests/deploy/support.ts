import { childEnv as childProcessEnv, WORKSPACE_ROOT } from '@alma-cache/local-aws';
import { join } from 'node:path';

/** Shared by the deploy specs: the contract they check, and how they run the repo's own scripts. */

export const APP = 'apps/change-lambdas';
export const APP_DIR = join(WORKSPACE_ROOT, APP);
export const DIST = 'dist/apps/change-lambdas';
export const SERVICE = 'alma-cache-changes';
export const REGION = 'eu-west-1';
export const FUNCTION = 'publish-changes';
export const STREAMED_TABLES = ['loans', 'requests'] as const;
export type StreamedTable = (typeof STREAMED_TABLES)[number];

/** Physical names for a stage. */
export const namesFor = (stage: 'stg' | 'prod') => ({
  stack: `${SERVICE}-${stage}`,
  function: `${SERVICE}-${stage}-${FUNCTION}`,
  topic: `alma-cache-${stage}-cache-changes`,
  failureQueue: `alma-cache-${stage}-change-lambdas-failures`,
  /** The cache-update stack's exports this stack imports by default. */
  streamExport: (table: StreamedTable) => `alma-cache-${stage}-${table === 'loans' ? 'Loans' : 'Requests'}TableStreamArn`,
});

/** The variables that point the stack at other streams than the cache-update stack's exports. */
export const streamEnvName = (table: StreamedTable, stage: 'stg' | 'prod') => `${table.toUpperCase()}_TABLE_STREAM_ARN_${stage.toUpperCase()}`;

/**
 * A cache-update stack table's stream ARN as the cache-update stack's output holds it: what `${cf:alma-cache-sns-<stage>.…}`
 * reads at deploy time. An offline package cannot call DescribeStacks, so the template spec hands it over as the
 * override.
 */
export const cacheUpdateStreamArn = (table: StreamedTable, stage: 'stg' | 'prod') =>
  `arn:aws:dynamodb:eu-west-1:000000000000:table/alma-cache-${stage}-${table}/stream/2026-01-01T00:00:00.000`;

/** {@link cacheUpdateStreamArn} for both tables, as the per-stage override variables. */
export const cacheUpdateStreamEnv = (stage: 'stg' | 'prod'): Record<string, string> =>
  Object.fromEntries(STREAMED_TABLES.map((table) => [streamEnvName(table, stage), cacheUpdateStreamArn(table, stage)]));

export { NX_BIN, runNode, tail, WORKSPACE_ROOT, type RunResult } from '@alma-cache/local-aws';

/** The environment for a child process, without the variables that would change what this app's stack resolves. */
export const childEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => childProcessEnv(extra, [/^CHANGE_LAMBDAS_/, /_TABLE_STREAM_ARN_/]);

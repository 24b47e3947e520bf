import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Shared by the deploy specs: the contract they check, and how they run the repo's own scripts. */

export const WORKSPACE_ROOT = resolve(__dirname, '../../../..');
export const APP = 'apps/refresh-lambdas';
export const APP_DIR = join(WORKSPACE_ROOT, APP);
export const DIST = 'dist/apps/refresh-lambdas';
export const SERVICE = 'alma-cache-refresh';
export const REGION = 'eu-west-1';

export const FUNCTIONS = ['update-user', 'update-loan', 'update-request', 'update-fee'] as const;
export type FunctionKey = (typeof FUNCTIONS)[number];
export const ITEM_FUNCTIONS = ['update-loan', 'update-request', 'update-fee'] as const;
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
  function: (fn: FunctionKey) => `${SERVICE}-${stage}-${fn}`,
  /** The foundation's export names this stack imports. */
  foundationExport: (name: 'UsersQueueArn' | 'UsersTableName' | 'LoansTableName' | 'RequestsTableName') => `alma-cache-${stage}-${name}`,
  feesTable: `alma-cache-${stage}-fees`,
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

/** The per-stage overrides of the foundation's exports, as serverless.yml reads them. */
export const overrideEnv = (
  stage: 'stg' | 'prod',
  values: { usersQueueArn: string; usersTable: string; loansTable: string; requestsTable: string },
): Record<string, string> => {
  const suffix = stage.toUpperCase();
  return {
    [`USER_QUEUE_ARN_${suffix}`]: values.usersQueueArn,
    [`USER_CACHE_TABLE_NAME_${suffix}`]: values.usersTable,
    [`LOAN_CACHE_TABLE_NAME_${suffix}`]: values.loansTable,
    [`REQUEST_CACHE_TABLE_NAME_${suffix}`]: values.requestsTable,
  };
};

/**
 * The environment for a child process: this one's, less anything that could point it at a real AWS account or
 * another Nx run, or change what serverless.yml resolves to (AWS_*, NX_*, ALMA_*, REFRESH_LAMBDAS_*, the override
 * variables, LOG_LEVEL), plus `extra`.
 */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(AWS_|NX_|ALMA_|REFRESH_LAMBDAS_)/.test(name)) continue;
    if (/^(USER_QUEUE_(ARN|URL)|(USER|LOAN|REQUEST|FEE)_CACHE_TABLE_NAME)(_|$)/.test(name) || name === 'LOG_LEVEL') continue;
    env[name] = value;
  }
  return { ...env, NX_NO_CLOUD: 'true', NX_DAEMON: 'false', FORCE_COLOR: '0', ...extra };
}

export interface RunResult {
  code: number | null;
  output: string;
  ms: number;
}

/**
 * Runs `node <args>` (from the workspace root unless told), killing it after `timeoutMs`. Resolves with the exit code
 * and the interleaved output, never rejects: the caller asserts on both.
 */
export function runNode(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number, cwd = WORKSPACE_ROOT): Promise<RunResult> {
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output += chunk.toString('utf8');
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      output += `\n[killed after ${timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      output += `\n[could not start: ${error.message}]`;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, output, ms: Date.now() - started });
    });
  });
}

/** The Nx CLI of this workspace, to run with this Node (same as `npx nx`, without npm in between). */
export const NX_BIN = realpathSync(join(WORKSPACE_ROOT, 'node_modules', '.bin', 'nx'));

/** A failed child's output, shortened for an assertion message. */
export const tail = (output: string, lines = 40) => output.trimEnd().split('\n').slice(-lines).join('\n');

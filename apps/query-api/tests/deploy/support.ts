import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

/** Shared by the deploy specs: the contract they check, and how they run the repo's own scripts. */

export const WORKSPACE_ROOT = resolve(__dirname, '../../../..');
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

/**
 * The environment for a child process: this one's, less anything that could point it at a real AWS account or
 * another Nx run, or change what serverless.yml resolves to, plus `extra`.
 */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(AWS_|NX_|ALMA_|QUERY_API_)/.test(name)) continue;
    if (/^(USER_QUEUE_(ARN|URL)|(USER|LOAN|REQUEST|FEE)_CACHE_TABLE_NAME)(_|$)/.test(name) || name === 'LOG_LEVEL') continue;
    env[name] = value;
  }
  return { ...env, NX_NO_CLOUD: 'true', NX_DAEMON: 'false', FORCE_COLOR: '0', ...extra };
}

export interface RunResult {
  code: number | null;
  output: string;
}

/** Runs `node <args>` from the workspace root, killed after `timeoutMs`; never rejects. */
export function runNode(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<RunResult> {
  return new Promise((done) => {
    const child = spawn(process.execPath, args, { cwd: WORKSPACE_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
      done({ code, output });
    });
  });
}

/** A failed child's output, shortened for an assertion message. */
export const tail = (output: string, lines = 40) => output.trimEnd().split('\n').slice(-lines).join('\n');

import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Shared by the deploy specs: the contract they check, and how they run the repo's own scripts. */

export const WORKSPACE_ROOT = resolve(__dirname, '../../../..');
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
  /** The foundation's exports this stack imports by default. */
  streamExport: (table: StreamedTable) => `alma-cache-${stage}-${table === 'loans' ? 'Loans' : 'Requests'}TableStreamArn`,
});

/** The variables that point the stack at other streams than the foundation's exports. */
export const streamEnvName = (table: StreamedTable, stage: 'stg' | 'prod') => `${table.toUpperCase()}_TABLE_STREAM_ARN_${stage.toUpperCase()}`;

/**
 * The environment for a child process: this one's, less anything that could point it at a real AWS account or
 * another Nx run, or change what serverless.yml resolves to (AWS_*, NX_*, CHANGE_LAMBDAS_*, stream variables,
 * LOG_LEVEL), plus `extra`.
 */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(AWS_|NX_|CHANGE_LAMBDAS_)/.test(name) || /_TABLE_STREAM_ARN_/.test(name) || name === 'LOG_LEVEL') continue;
    env[name] = value;
  }
  return { ...env, NX_NO_CLOUD: 'true', NX_DAEMON: 'false', FORCE_COLOR: '0', ...extra };
}

export interface RunResult {
  code: number | null;
  output: string;
  ms: number;
}

/** Runs `node <args>` from the workspace root, killing it after `timeoutMs`; resolves with exit code and output. */
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

/** The Nx CLI of this workspace, to run with this Node. */
export const NX_BIN = realpathSync(join(WORKSPACE_ROOT, 'node_modules', '.bin', 'nx'));

/** A failed child's output, shortened for an assertion message. */
export const tail = (output: string, lines = 40) => output.trimEnd().split('\n').slice(-lines).join('\n');

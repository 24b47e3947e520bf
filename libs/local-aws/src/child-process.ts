import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The folder holding nx.json above this file: where the repo's scripts run from. */
export const WORKSPACE_ROOT = ((): string => {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
  }
  return process.cwd();
})();

/** The Nx CLI of this workspace, to run with this Node (same as `npx nx`, without npm in between). */
export const NX_BIN = realpathSync(join(WORKSPACE_ROOT, 'node_modules', '.bin', 'nx'));

export interface RunResult {
  code: number | null;
  output: string;
  ms: number;
}

/**
 * The environment for a child process that packages or deploys a stack: this one's, less anything that could point
 * it at a real AWS account or another Nx run (`AWS_*`, `NX_*`, `LOG_LEVEL`) or change what the app's serverless.yml
 * resolves to (the variables matching `stackInputs`), plus `extra`.
 *
 * @example
 * const env = childEnv({ AWS_ENDPOINT_URL: moto }, [/^SNS_LAMBDAS_/, /_TOPIC_ARN_/]);
 */
export function childEnv(extra: Record<string, string>, stackInputs: readonly RegExp[] = []): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(AWS_|NX_)/.test(name) || name === 'LOG_LEVEL' || stackInputs.some((pattern) => pattern.test(name))) continue;
    env[name] = value;
  }
  return { ...env, NX_NO_CLOUD: 'true', NX_DAEMON: 'false', FORCE_COLOR: '0', ...extra };
}

/**
 * Runs `node <args>` (from the workspace root unless told), killing it after `timeoutMs`. Resolves with the exit code
 * and the interleaved output, never rejects: the caller asserts on both.
 *
 * @example
 * const result = await runNode(['tools/scripts/sls.mjs', 'package', '--app', 'apps/sns-lambdas'], childEnv({}), 120_000);
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

/** A failed child's output, shortened for an assertion message. */
export const tail = (output: string, lines = 40): string => output.trimEnd().split('\n').slice(-lines).join('\n');

import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AlmaEventType } from '@alma-cache/cache-domain';

/** Shared by the deploy specs: the contract they check, and how they run the repo's own scripts. */

export const WORKSPACE_ROOT = resolve(__dirname, '../../../..');
export const APP = 'apps/webhook-receiver';
export const APP_DIR = join(WORKSPACE_ROOT, APP);
export const DIST = 'dist/apps/webhook-receiver';
export const SERVICE = 'alma-cache-webhooks';
export const REGION = 'eu-west-1';
export const FUNCTION = 'receive-webhook';
export const EVENTS = Object.values(AlmaEventType);
export type Stage = 'stg' | 'prod';

/** Physical names for a stage. */
export const namesFor = (stage: Stage) => ({
  stack: `${SERVICE}-${stage}`,
  function: `${SERVICE}-${stage}-${FUNCTION}`,
  defaultSecretName: `/alma-cache/${stage}/alma-webhook-secret`,
  accessLogGroup: `/aws/http-api/${SERVICE}-${stage}`,
});

export const topicEnvName = (event: AlmaEventType, stage: Stage) => `${event}_TOPIC_ARN_${stage.toUpperCase()}`;

/** `<EVENT>_TOPIC_ARN_<STAGE>` for all eight events, from a function giving each event's ARN. */
export const topicEnv = (stage: Stage, arnOf: (event: AlmaEventType) => string): Record<string, string> =>
  Object.fromEntries(EVENTS.map((event) => [topicEnvName(event, stage), arnOf(event)]));

export const dummyTopicArn = (event: AlmaEventType) => `arn:aws:sns:${REGION}:000000000000:${event}`;

/**
 * The environment for a child process: this one's, less anything that could point it at a real AWS account or
 * another Nx run, or change what serverless.yml resolves to (AWS_*, NX_*, ALMA_*, WEBHOOK_RECEIVER_*, topic
 * variables, LOG_LEVEL), plus `extra`.
 */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(AWS_|NX_|ALMA_|WEBHOOK_RECEIVER_)/.test(name) || /_TOPIC_ARN(_|$)/.test(name) || name === 'LOG_LEVEL') continue;
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

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Where `npm start` records the running local stack (tools/local/stack.ts). */
export const SESSION_FILE = join(resolve(__dirname, '..', '..'), 'tmp', 'local-stack', 'session.json');

/** The emulators' defaults: the stack's region and the dummy credentials the local backends accept. */
const LOCAL_DEFAULTS = { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };

/**
 * Points the AWS SDK at the local stack: the endpoints already in the environment (`AWS_ENDPOINT_URL`,
 * `AWS_ENDPOINT_URL_DYNAMODB`, …) win; else the `awsEnv` the session file holds, when the local stack records it.
 * Fills in the region and dummy credentials the emulators take. Throws when no endpoint is known, so `--local`
 * never silently talks to AWS.
 */
export const useLocalStack = (env: NodeJS.ProcessEnv = process.env, sessionFile = SESSION_FILE): string => {
  if (!env['AWS_ENDPOINT_URL'] && existsSync(sessionFile)) {
    const session = JSON.parse(readFileSync(sessionFile, 'utf8')) as { awsEnv?: Record<string, string> };
    for (const [key, value] of Object.entries(session.awsEnv ?? {})) env[key] ??= value;
  }
  if (!env['AWS_ENDPOINT_URL']) {
    throw new Error(
      `--local: no emulator endpoint. Set AWS_ENDPOINT_URL (moto or LocalStack, as \`npm start\` prints it) and ` +
        `AWS_ENDPOINT_URL_DYNAMODB, or run a local stack that records awsEnv in ${sessionFile}.`,
    );
  }
  for (const [key, value] of Object.entries(LOCAL_DEFAULTS)) env[key] ??= value;
  env['AWS_DEFAULT_REGION'] ??= env['AWS_REGION'];
  return env['AWS_ENDPOINT_URL'];
};

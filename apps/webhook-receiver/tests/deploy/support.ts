import { childEnv as childProcessEnv, WORKSPACE_ROOT } from '@alma-cache/local-aws';
import { join } from 'node:path';
import { AlmaEventType } from '@alma-cache/cache-domain';

/** Shared by the deploy specs: the contract they check, and how they run the repo's own scripts. */

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

export { NX_BIN, runNode, tail, WORKSPACE_ROOT, type RunResult } from '@alma-cache/local-aws';

/** The environment for a child process, without the variables that would change what this app's stack resolves. */
export const childEnv = (extra: Record<string, string>): NodeJS.ProcessEnv =>
  childProcessEnv(extra, [/^(ALMA_|WEBHOOK_RECEIVER_)/, /_TOPIC_ARN(_|$)/]);

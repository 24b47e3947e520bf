import { childEnv as childProcessEnv, WORKSPACE_ROOT } from '@alma-cache/local-aws';
import { join } from 'node:path';

/** Shared by the deploy specs: the contract they check, and how they run the repo's own scripts. */

export const APP = 'apps/sns-lambdas';
export const APP_DIR = join(WORKSPACE_ROOT, APP);
export const DIST = 'dist/apps/sns-lambdas';
export const SERVICE = 'alma-cache-sns';
export const REGION = 'eu-west-1';

export const EVENTS = [
  'LOAN_CREATED',
  'LOAN_RENEWED',
  'LOAN_DUE_DATE',
  'LOAN_RETURNED',
  'REQUEST_CREATED',
  'REQUEST_PLACED_ON_SHELF',
  'REQUEST_CANCELED',
  'REQUEST_CLOSED',
] as const;
export type AlmaEvent = (typeof EVENTS)[number];

export const FUNCTIONS = ['loan-updated', 'loan-returned', 'request-updated', 'request-closed'] as const;
export type FunctionKey = (typeof FUNCTIONS)[number];

/** Which topics each function is subscribed to. */
export const TOPICS_OF: Record<FunctionKey, readonly AlmaEvent[]> = {
  'loan-updated': ['LOAN_CREATED', 'LOAN_RENEWED', 'LOAN_DUE_DATE'],
  'loan-returned': ['LOAN_RETURNED'],
  'request-updated': ['REQUEST_CREATED', 'REQUEST_PLACED_ON_SHELF'],
  'request-closed': ['REQUEST_CANCELED', 'REQUEST_CLOSED'],
};

/** The table each function writes its item to (besides touching Users and claiming refreshes). */
export const ITEM_TABLE_OF: Record<FunctionKey, 'loans' | 'requests'> = {
  'loan-updated': 'loans',
  'loan-returned': 'loans',
  'request-updated': 'requests',
  'request-closed': 'requests',
};

/** Physical names for a stage: `alma-cache-<stage>-…` for the cache's tables and queues. */
export const namesFor = (stage: 'stg' | 'prod') => ({
  stack: `${SERVICE}-${stage}`,
  function: (fn: FunctionKey) => `${SERVICE}-${stage}-${fn}`,
  tables: {
    users: `alma-cache-${stage}-users`,
    loans: `alma-cache-${stage}-loans`,
    requests: `alma-cache-${stage}-requests`,
    userRefreshClaims: `alma-cache-${stage}-user-refresh-claims`,
  },
  queues: {
    users: `alma-cache-${stage}-users`,
    usersDlq: `alma-cache-${stage}-users-dlq`,
    failures: `alma-cache-${stage}-sns-lambdas-failures`,
  },
});

export const topicEnvName = (event: AlmaEvent, stage: 'stg' | 'prod') => `${event}_TOPIC_ARN_${stage.toUpperCase()}`;

/** `<EVENT>_TOPIC_ARN_<STAGE>` for all eight events, from a function giving each event's ARN. */
export const topicEnv = (stage: 'stg' | 'prod', arnOf: (event: AlmaEvent) => string): Record<string, string> =>
  Object.fromEntries(EVENTS.map((event) => [topicEnvName(event, stage), arnOf(event)]));

export const dummyTopicArn = (event: AlmaEvent) => `arn:aws:sns:${REGION}:000000000000:${event}`;

export { NX_BIN, runNode, tail, WORKSPACE_ROOT, type RunResult } from '@alma-cache/local-aws';

/** The environment for a child process, without the variables that would change what this app's stack resolves. */
export const childEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => childProcessEnv(extra, [/^SNS_LAMBDAS_/, /_TOPIC_ARN_/]);

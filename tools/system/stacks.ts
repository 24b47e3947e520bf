/**
 * The system's stacks, in deploy order, and the values one stack reads from another's outputs. One place for the
 * preflight, the status command, the local stack and the tests; the Nx targets (implicitDependencies, `^deploy`,
 * `remove` on dependents) and the serverless.yml `${cf:…}` defaults must agree with it (tools/system/tests checks).
 */

export const STAGES = ['stg', 'prod'] as const;
export type Stage = (typeof STAGES)[number];

export interface SystemStack {
  /** The Nx project, under apps/. */
  readonly project: string;
  /** The serverless.yml `service`; the stack is `<service>-<stage>`. */
  readonly service: string;
  /** The projects whose stack outputs this one reads: deployed before it, removed after it. */
  readonly dependsOn: readonly string[];
  readonly what: string;
}

export const SYSTEM_STACKS: readonly SystemStack[] = [
  { project: 'alma-topics', service: 'alma-cache-topics', dependsOn: [], what: 'the eight Alma event topics' },
  { project: 'sns-lambdas', service: 'alma-cache-sns', dependsOn: ['alma-topics'], what: 'cache update: Users, Loans, Requests tables, Users queue' },
  { project: 'webhook-receiver', service: 'alma-cache-webhooks', dependsOn: ['alma-topics'], what: "Alma's webhook endpoint" },
  {
    project: 'refresh-lambdas',
    service: 'alma-cache-refresh',
    dependsOn: ['sns-lambdas'],
    what: 'bulk refresh: Fees and Alma guard tables, Loans/Requests/Fees queues',
  },
  { project: 'change-lambdas', service: 'alma-cache-changes', dependsOn: ['sns-lambdas'], what: 'change notifications: cache-changes topic' },
  { project: 'query-api', service: 'alma-cache-query', dependsOn: ['sns-lambdas', 'refresh-lambdas'], what: 'the read API (JWT)' },
];

/**
 * @example
 * stackName('sns-lambdas', 'stg'); // 'alma-cache-sns-stg'
 */
export const stackName = (project: string, stage: Stage): string => {
  const stack = SYSTEM_STACKS.find((candidate) => candidate.project === project);
  if (!stack) throw new Error(`${project} is not one of the system's stacks (${SYSTEM_STACKS.map((s) => s.project).join(', ')})`);
  return `${stack.service}-${stage}`;
};

/** The eight Alma events with a topic, and their output keys on the topics stack. */
export const TOPIC_EVENTS = [
  'LOAN_CREATED',
  'LOAN_RENEWED',
  'LOAN_DUE_DATE',
  'LOAN_RETURNED',
  'REQUEST_CREATED',
  'REQUEST_PLACED_ON_SHELF',
  'REQUEST_CANCELED',
  'REQUEST_CLOSED',
] as const;

const pascal = (event: string): string =>
  event
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');

export interface CrossStackValue {
  /** The producing project, whose stack has this output. */
  readonly producer: string;
  readonly output: string;
  /** `<override>_<STG|PROD>` replaces the output for every stack that reads it. */
  readonly override: string;
}

/** Every value read through `${env:<override>_<STG|PROD>, cf:<producer stack>.<output>}`. */
export const CROSS_STACK_VALUES: readonly CrossStackValue[] = [
  ...TOPIC_EVENTS.map((event) => ({ producer: 'alma-topics', output: `${pascal(event)}TopicArn`, override: `${event}_TOPIC_ARN` })),
  { producer: 'sns-lambdas', output: 'UsersTableName', override: 'USER_CACHE_TABLE_NAME' },
  { producer: 'sns-lambdas', output: 'LoansTableName', override: 'LOAN_CACHE_TABLE_NAME' },
  { producer: 'sns-lambdas', output: 'RequestsTableName', override: 'REQUEST_CACHE_TABLE_NAME' },
  { producer: 'sns-lambdas', output: 'UsersQueueUrl', override: 'USER_QUEUE_URL' },
  { producer: 'sns-lambdas', output: 'UsersQueueArn', override: 'USER_QUEUE_ARN' },
  { producer: 'sns-lambdas', output: 'UsersDeadLetterQueueArn', override: 'USER_DLQ_ARN' },
  { producer: 'sns-lambdas', output: 'LoansTableStreamArn', override: 'LOANS_TABLE_STREAM_ARN' },
  { producer: 'sns-lambdas', output: 'RequestsTableStreamArn', override: 'REQUESTS_TABLE_STREAM_ARN' },
  { producer: 'sns-lambdas', output: 'UserRefreshClaimsTableName', override: 'USER_REFRESH_CLAIM_TABLE_NAME' },
  { producer: 'refresh-lambdas', output: 'FeesTableName', override: 'FEE_CACHE_TABLE_NAME' },
  { producer: 'refresh-lambdas', output: 'AlmaGuardTableName', override: 'ALMA_GUARD_TABLE_NAME' },
];

/**
 * The per-stage override variables that stand for a producer's outputs, from those outputs: what a caller that cannot
 * let osls call DescribeStacks (an offline package) sets instead.
 *
 * @example
 * overridesFromOutputs('sns-lambdas', 'stg', { UsersTableName: 'alma-cache-stg-users' });
 * // { USER_CACHE_TABLE_NAME_STG: 'alma-cache-stg-users' }
 */
export const overridesFromOutputs = (producer: string, stage: Stage, outputs: Readonly<Record<string, string>>): Record<string, string> =>
  Object.fromEntries(
    CROSS_STACK_VALUES.filter((value) => value.producer === producer && outputs[value.output] !== undefined).map((value) => [
      `${value.override}_${stage.toUpperCase()}`,
      outputs[value.output] as string,
    ]),
  );

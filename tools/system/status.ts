import { SYSTEM_STACKS, stackName, type Stage } from './stacks';

/** What the status command reads from AWS; `tools/system/aws-status-source.ts` implements it with the SDK. */
export interface StatusSource {
  /** The stack's status and outputs, or undefined when there is no such stack. */
  describeStack(name: string): Promise<{ status: string; outputs: Record<string, string> } | undefined>;
  /** The stack's resources of one CloudFormation type: their physical ids (a queue's URL, an alarm's name). */
  stackResources(name: string, type: string): Promise<string[]>;
  /** The names of the alarms the stack declares, whether or not each exists in CloudWatch. */
  alarmNames(name: string): Promise<string[]>;
  /** The state (`OK`, `ALARM`, `INSUFFICIENT_DATA`) of each named alarm that exists. */
  alarmStates(names: readonly string[]): Promise<Record<string, string>>;
  /** Messages waiting and in flight on a queue. */
  queueDepth(queueUrl: string): Promise<{ visible: number; inFlight: number }>;
}

export interface QueueHealth {
  name: string;
  visible: number;
  inFlight: number;
  /** A DLQ or failure queue: anything on it is a message the system gave up on. */
  deadLetter: boolean;
}

export interface StackHealth {
  project: string;
  stack: string;
  /** The CloudFormation status; undefined when the stack does not exist. */
  status?: string;
  alarms: number;
  inAlarm: string[];
  queues: QueueHealth[];
}

export interface StatusReport {
  stage: Stage;
  webhookUrl?: string;
  queryApiUrl?: string;
  stacks: StackHealth[];
}

const isDeadLetterQueue = (name: string): boolean => /-(dlq|failures)$/.test(name);

/**
 * Reads the whole system's state for a stage: every stack (missing ones included), its alarms in ALARM and its
 * queues' depths, and the two URLs a person needs next.
 *
 * @example
 * const report = await readStatus('stg', new AwsStatusSource({ region: 'eu-west-1' }));
 * console.log(formatStatus(report));
 */
export const readStatus = async (stage: Stage, source: StatusSource): Promise<StatusReport> => {
  const stacks: StackHealth[] = [];
  const outputs: Record<string, string> = {};
  for (const { project } of SYSTEM_STACKS) {
    const stack = stackName(project, stage);
    const described = await source.describeStack(stack);
    if (!described) {
      stacks.push({ project, stack, alarms: 0, inAlarm: [], queues: [] });
      continue;
    }
    Object.assign(outputs, described.outputs);
    const alarmNames = await source.alarmNames(stack);
    const states = alarmNames.length > 0 ? await source.alarmStates(alarmNames) : {};
    const queues: QueueHealth[] = [];
    for (const queueUrl of await source.stackResources(stack, 'AWS::SQS::Queue')) {
      const name = queueUrl.split('/').pop() as string;
      queues.push({ name, ...(await source.queueDepth(queueUrl)), deadLetter: isDeadLetterQueue(name) });
    }
    stacks.push({
      project,
      stack,
      status: described.status,
      alarms: alarmNames.length,
      inAlarm: alarmNames.filter((name) => states[name] === 'ALARM').sort(),
      queues: queues.sort((a, b) => a.name.localeCompare(b.name)),
    });
  }
  return { stage, webhookUrl: outputs['AlmaWebhookListenerUrl'], queryApiUrl: outputs['QueryApiUrl'], stacks };
};

/** 0: all deployed and quiet; 1: a stack is missing or not in a *_COMPLETE state; 2: an alarm or a dead letter. */
export const statusExitCode = (report: StatusReport): 0 | 1 | 2 => {
  if (report.stacks.some((stack) => !stack.status || !/_COMPLETE$/.test(stack.status) || /ROLLBACK|DELETE/.test(stack.status))) return 1;
  const attention = report.stacks.some(
    (stack) => stack.inAlarm.length > 0 || stack.queues.some((queue) => queue.deadLetter && queue.visible + queue.inFlight > 0),
  );
  return attention ? 2 : 0;
};

/**
 * The report as a person reads it: the URLs first, then one block per stack.
 *
 * @example
 * formatStatus(report).split('\n')[0]; // 'Alma cache, stage stg'
 */
export const formatStatus = (report: StatusReport): string => {
  const lines = [`Alma cache, stage ${report.stage}`];
  lines.push(`  webhook URL for Alma (integration profile > Webhook listener URL): ${report.webhookUrl ?? '(webhook-receiver not deployed)'}`);
  lines.push(`  query API URL (append /users/{id}):                               ${report.queryApiUrl ?? '(query-api not deployed)'}`);
  const missing = report.stacks.filter((stack) => !stack.status);
  for (const stack of report.stacks) {
    if (!stack.status) {
      lines.push(`${stack.stack}: MISSING (no such stack; deploy it: npx nx run ${stack.project}:deploy --stage=${report.stage})`);
      continue;
    }
    lines.push(`${stack.stack}: ${stack.status}`);
    lines.push(
      stack.alarms === 0
        ? '  alarms: none'
        : `  alarms: ${stack.inAlarm.length} of ${stack.alarms} in ALARM${stack.inAlarm.length > 0 ? `: ${stack.inAlarm.join(', ')}` : ''}`,
    );
    for (const queue of stack.queues) {
      const flag = queue.deadLetter && queue.visible + queue.inFlight > 0 ? '  <- given up on: see the README Runbook, replaying failures' : '';
      lines.push(`  queue ${queue.name}${queue.deadLetter ? ' (dead letters)' : ''}: ${queue.visible} waiting, ${queue.inFlight} in flight${flag}`);
    }
  }
  if (missing.length > 0) {
    lines.push(
      `${missing.length} of ${report.stacks.length} stacks missing: deploy the whole system with npx nx run-many -t deploy --stage=${report.stage}`,
    );
  }
  return lines.join('\n');
};

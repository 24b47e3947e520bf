import { parseArgs } from 'node:util';
import { STAGES } from '../system/stacks';

export const USAGE = `usage: npm run redrive -- <command> [options]

  list   --queue <name|url> [--max N] [--json]
         what sits in a DLQ or failure queue, with reasons; read without consuming
  replay --queue <name|url> --to source|handler [--yes] [--dry-run] [--max N]
         [--reason <errorType|text>] [--source-queue <name|url>] [--function <name|arn>]
         [--move-task] [--visibility S]
         back to the queue it came from (a failure-queue record: its function's queue), or straight
         to the function as a one-record SQS event; a dry run unless --yes;
         a message is deleted only after its replay succeeded

  --queue      loan-updated-dlq | loan-returned-dlq | request-updated-dlq | request-closed-dlq |
               users-dlq | loans-dlq | requests-dlq | fees-dlq | failures | changes-failures
               (alma-cache-<stage>-…), another queue name, or a queue URL
  --stage      stg (default) or prod (against an emulator, any lower-case name)
  --local      the local stack (npm start): AWS_ENDPOINT_URL*, else tmp/local-stack/session.json's awsEnv;
               --to handler then runs the built bundles in this process
  --region     AWS region (default: the SDK's, else eu-west-1)`;

export interface ListOptions {
  command: 'list';
  queue: string;
  stage: string;
  max: number;
  json: boolean;
  local: boolean;
  region?: string;
}

export interface ReplayCommandOptions {
  command: 'replay';
  queue: string;
  stage: string;
  max: number;
  to: 'source' | 'handler';
  /** True unless --yes was given without --dry-run: acting needs both the intent and no contrary flag. */
  dryRun: boolean;
  sourceQueue?: string;
  functionName?: string;
  moveTask: boolean;
  /** Only messages with this reason (error type, or part of the reason); the rest stay. */
  reason?: string;
  visibilitySeconds: number;
  local: boolean;
  region?: string;
}

export type CliOptions = ListOptions | ReplayCommandOptions;

const positiveInteger = (value: string | undefined, flag: string, fallback: number): number => {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new Error(`${flag} takes a whole number above 0, not "${value}"`);
  return number;
};

/**
 * Reads the command line. Throws with the usage on anything it does not know, so a typo never runs a replay
 * with a default the user did not mean. Against AWS the stage is one of the system's stages; against an emulator
 * (`--local`, or `AWS_ENDPOINT_URL` in `env`) any lower-case name, so each test can have queues of its own.
 *
 * @example
 * parseCli(['list', '--queue', 'failures', '--stage', 'prod']); // { command: 'list', stage: 'prod', … }
 * parseCli(['list', '--queue', 'failures', '--stage', 'prd']); // throws: the stages are stg and prod
 */
export const parseCli = (argv: string[], env: NodeJS.ProcessEnv = process.env): CliOptions => {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      queue: { type: 'string' },
      stage: { type: 'string', default: 'stg' },
      max: { type: 'string' },
      json: { type: 'boolean', default: false },
      to: { type: 'string' },
      yes: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      'source-queue': { type: 'string' },
      function: { type: 'string' },
      'move-task': { type: 'boolean', default: false },
      visibility: { type: 'string' },
      reason: { type: 'string' },
      local: { type: 'boolean', default: false },
      region: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) throw new Error(USAGE);
  if (rest.length > 0) throw new Error(`unexpected argument(s): ${rest.join(' ')}\n\n${USAGE}`);
  if (!values.queue) throw new Error(`--queue is required\n\n${USAGE}`);
  if (!/^[a-z0-9]+$/.test(values.stage)) throw new Error(`--stage "${values.stage}" is not a stage name`);
  const againstEmulator = values.local || Boolean(env['AWS_ENDPOINT_URL']);
  if (!againstEmulator && !(STAGES as readonly string[]).includes(values.stage))
    throw new Error(`--stage "${values.stage}" is not a stage: the stages are ${STAGES.join(' and ')}`);
  const common = { queue: values.queue, stage: values.stage, local: values.local, region: values.region };
  if (command === 'list') return { command, ...common, max: positiveInteger(values.max, '--max', 100), json: values.json };
  if (command !== 'replay') throw new Error(`unknown command "${command}"\n\n${USAGE}`);
  if (values.to !== 'source' && values.to !== 'handler') throw new Error(`--to source or --to handler is required\n\n${USAGE}`);
  if (values['move-task'] && values.to !== 'source') throw new Error('--move-task moves a DLQ back to its source queue: it goes with --to source');
  if (values['move-task'] && (values.max !== undefined || values.reason !== undefined))
    throw new Error('--move-task moves the whole queue: it cannot honour --max or --reason');
  return {
    command,
    ...common,
    to: values.to,
    max: positiveInteger(values.max, '--max', Number.MAX_SAFE_INTEGER),
    dryRun: values['dry-run'] || !values.yes,
    sourceQueue: values['source-queue'],
    functionName: values.function,
    moveTask: values['move-task'],
    reason: values.reason,
    visibilitySeconds: positiveInteger(values.visibility, '--visibility', 300),
  };
};

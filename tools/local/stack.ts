import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AlmaEventType } from '@alma-cache/cache-domain';
import { invokeAsync, type LambdaHandler, type LocalAws, provisionFromTemplate, snsEvent, startLocalAws } from '@alma-cache/local-aws';
import { readPackagedTemplate, type TemplateFunction, templateFunctions } from './template';

export const WORKSPACE = resolve(__dirname, '..', '..');
export const APP_DIR = join(WORKSPACE, 'apps', 'sns-lambdas');
const BUNDLE_DIR = join(WORKSPACE, 'dist', 'apps', 'sns-lambdas');
const PACKAGE_DIR = join(WORKSPACE, 'tmp', 'local-stack', 'package');
const REGION = 'eu-west-1';
const ACCOUNT = '000000000000';
const topicArn = (event: string) => `arn:aws:sns:${REGION}:${ACCOUNT}:${event}`;

export interface LocalStack {
  aws: LocalAws;
  functions: TemplateFunction[];
  queues: Record<string, string>;
  tables: Record<string, string>;
  /** Delivers a webhook body as SNS would, to the function subscribed to its topic, with Lambda's async retries. */
  publish(eventType: string, body: string): Promise<{ functionName: string; succeeded: boolean; attempts: number; error?: Error }>;
  stop(): Promise<void>;
}

const run = (title: string, command: string, args: string[], env: NodeJS.ProcessEnv, log: (line: string) => void) => {
  const started = Date.now();
  log(`${title}…`);
  try {
    execFileSync(command, args, { cwd: WORKSPACE, env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${title} failed:\n${stdout}\n${stderr}`);
  }
  log(`${title}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
};

/**
 * Builds the real bundles, packages the real serverless.yml offline, starts the emulators, provisions the tables
 * and queues the template declares, and loads each function's bundle with the environment the template gives it.
 *
 * @example
 * const stack = await startLocalStack({ log: console.log });
 * await stack.publish('LOAN_CREATED', webhookBody);
 */
export const startLocalStack = async (opts: { log: (line: string) => void; backend?: string }): Promise<LocalStack> => {
  const { log } = opts;
  // The bundles run on Lambda's Node 22; the SDK's warning about this machine's Node 20 would repeat per bundle.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const topicEnv = Object.fromEntries(Object.values(AlmaEventType).map((event) => [`${event}_TOPIC_ARN_STG`, topicArn(event)]));
  const env = { ...process.env, ...topicEnv, NX_NO_CLOUD: 'true', NX_DAEMON: 'false', NX_TUI: 'false' };
  run('building the four function bundles (nx run sns-lambdas:build)', join(WORKSPACE, 'node_modules', '.bin', 'nx'), ['run', 'sns-lambdas:build', '--outputStyle=static'], env, log);
  mkdirSync(PACKAGE_DIR, { recursive: true });
  run('packaging serverless.yml offline (osls package --stage stg)', process.execPath, [join(WORKSPACE, 'tools', 'scripts', 'sls.mjs'), 'package', '--app', 'apps/sns-lambdas', '--stage', 'stg', '--package-dir', PACKAGE_DIR], env, log);
  const template = readPackagedTemplate(APP_DIR, PACKAGE_DIR);

  const aws = await startLocalAws({ backend: opts.backend ?? process.env['AWS_TEST_BACKEND'], log });
  log(`emulators: ${aws.description}`);
  Object.assign(process.env, aws.env);
  const provisioned = await provisionFromTemplate(template, aws.env, { log });
  const functions = templateFunctions(template, provisioned);
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });

  const handlers = new Map<string, LambdaHandler>();
  const handlerOf = (fn: TemplateFunction): LambdaHandler => {
    const loaded = handlers.get(fn.name);
    if (loaded) return loaded;
    // Each bundle reads its environment at cold start, as in Lambda: give it the template's variables first.
    Object.assign(process.env, fn.environment);
    const handler = require(join(BUNDLE_DIR, fn.name, 'index.js')).handler as LambdaHandler;
    handlers.set(fn.name, handler);
    return handler;
  };

  const stack: LocalStack = {
    aws,
    functions,
    queues: provisioned.queues,
    tables: provisioned.tables,
    async publish(eventType, body) {
      const fn = functions.find((candidate) => candidate.topics.includes(eventType));
      if (!fn) throw new Error(`No function is subscribed to ${eventType}; subscribed topics: ${functions.flatMap((f) => f.topics).join(', ')}`);
      const failureQueueUrl = fn.onFailureQueue ? provisioned.queues[fn.onFailureQueue] : undefined;
      const result = await invokeAsync(handlerOf(fn), snsEvent(topicArn(eventType), body), {
        functionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:alma-cache-sns-stg-${fn.name}`,
        maximumRetryAttempts: fn.maximumRetryAttempts,
        onFailure: async (record) => {
          if (!failureQueueUrl) throw new Error(`${fn.name} has no on-failure destination: the event would be lost`);
          await sqs.send(new SendMessageCommand({ QueueUrl: failureQueueUrl, MessageBody: JSON.stringify(record) }));
        },
      });
      return { functionName: fn.name, ...result };
    },
    async stop() {
      sqs.destroy();
      await aws.stop();
    },
  };
  return stack;
};

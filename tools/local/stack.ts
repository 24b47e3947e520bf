import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { AlmaEventType } from '@alma-cache/cache-domain';
import { type FakeAlmaServer, startFakeAlmaServer } from '@alma-cache/alma-api/testing';
import { invokeAsync, type LambdaHandler, type LocalAws, provisionFromTemplate, snsEvent, startLocalAws } from '@alma-cache/local-aws';
import { queueArn, readPackagedTemplate, type StackExports, type TemplateFunction, templateExports, templateFunctions } from './template';

export const WORKSPACE = resolve(__dirname, '..', '..');
const REGION = 'eu-west-1';
const ACCOUNT = '000000000000';
const STAGE = 'stg';
const topicArn = (event: string) => `arn:aws:sns:${REGION}:${ACCOUNT}:${event}`;
/** Where the refresh functions look for the Alma API key by default (see apps/refresh-lambdas/serverless.yml). */
const ALMA_API_KEY_NAME = `/alma-cache/${STAGE}/alma-api-key`;

/** The deployable apps, in deploy order: the refresh stack imports the foundation's exports. */
const APPS = [
  { project: 'sns-lambdas', service: 'alma-cache-sns' },
  { project: 'refresh-lambdas', service: 'alma-cache-refresh' },
] as const;

export interface LocalFunction extends TemplateFunction {
  project: string;
  service: string;
}

export interface QueueDelivery {
  functionName: string;
  received: number;
  failed: number;
}

export interface LocalStack {
  aws: LocalAws;
  /** Alma, played by the fake server on loopback; seed patrons on it for the refresh to find. */
  alma: FakeAlmaServer;
  functions: LocalFunction[];
  queues: Record<string, string>;
  tables: Record<string, string>;
  /** Delivers a webhook body as SNS would, to the function subscribed to its topic, with Lambda's async retries. */
  publish(eventType: string, body: string): Promise<{ functionName: string; succeeded: boolean; attempts: number; error?: Error }>;
  /**
   * Polls a queue once as Lambda's SQS event source would: one batch to the function consuming it, then deletes
   * the messages the function did not report as failed. Undefined when the queue was empty.
   */
  deliverQueue(queueUrl: string): Promise<QueueDelivery | undefined>;
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

const sqsEvent = (queueUrl: string, messages: { MessageId?: string; ReceiptHandle?: string; Body?: string; Attributes?: Record<string, string> }[]): SQSEvent => ({
  Records: messages.map((message) => ({
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: message.Attributes?.['ApproximateReceiveCount'] ?? '1',
      SentTimestamp: message.Attributes?.['SentTimestamp'] ?? String(Date.now()),
      SenderId: message.Attributes?.['SenderId'] ?? ACCOUNT,
      ApproximateFirstReceiveTimestamp: message.Attributes?.['ApproximateFirstReceiveTimestamp'] ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn(queueUrl),
    awsRegion: REGION,
  })),
});

/**
 * Builds the real bundles of both services, packages their real serverless.yml offline, starts the emulators and a
 * fake Alma, provisions the tables and queues the templates declare (the refresh stack importing the foundation's
 * exports, as CloudFormation would), and loads each function's bundle with the environment its template gives it.
 *
 * @example
 * const stack = await startLocalStack({ log: console.log });
 * await stack.publish('LOAN_CREATED', webhookBody);
 * await stack.deliverQueue(stack.queues['UsersQueue']);
 */
export const startLocalStack = async (opts: { log: (line: string) => void; backend?: string }): Promise<LocalStack> => {
  const { log } = opts;
  // The bundles run on Lambda's Node 22; the SDK's warning about this machine's Node 20 would repeat per bundle.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  // First, so that its URL is what the packaged refresh functions call.
  const alma = await startFakeAlmaServer();
  log(`fake Alma API on ${alma.url}`);
  const topicEnv = Object.fromEntries(Object.values(AlmaEventType).map((event) => [`${event}_TOPIC_ARN_STG`, topicArn(event)]));
  const env = {
    ...process.env,
    ...topicEnv,
    ALMA_API_BASE_URL: alma.url,
    ALMA_API_KEY_NAME,
    NX_NO_CLOUD: 'true',
    NX_DAEMON: 'false',
    NX_TUI: 'false',
  };
  const projects = APPS.map((app) => app.project);
  run(`building the function bundles (nx run-many -t build -p ${projects.join(' ')})`, join(WORKSPACE, 'node_modules', '.bin', 'nx'), ['run-many', '-t', 'build', '-p', ...projects, '--outputStyle=static'], env, log);
  const templates = APPS.map((app) => {
    const packageDir = join(WORKSPACE, 'tmp', 'local-stack', app.project);
    mkdirSync(packageDir, { recursive: true });
    run(`packaging apps/${app.project}/serverless.yml offline (osls package --stage ${STAGE})`, process.execPath, [join(WORKSPACE, 'tools', 'scripts', 'sls.mjs'), 'package', '--app', `apps/${app.project}`, '--stage', STAGE, '--package-dir', packageDir], env, log);
    return readPackagedTemplate(join(WORKSPACE, 'apps', app.project), packageDir);
  });

  const aws = await startLocalAws({ backend: opts.backend ?? process.env['AWS_TEST_BACKEND'], log });
  log(`emulators: ${aws.description}`);
  Object.assign(process.env, aws.env);
  const ssm = new SSMClient({});
  await ssm.send(new PutParameterCommand({ Name: ALMA_API_KEY_NAME, Type: 'SecureString', Value: alma.apiKey, Overwrite: true }));
  ssm.destroy();

  const tables: Record<string, string> = {};
  const queues: Record<string, string> = {};
  const functions: LocalFunction[] = [];
  let exports: StackExports = {};
  for (const [index, app] of APPS.entries()) {
    const provisioned = await provisionFromTemplate(templates[index], aws.env, { log });
    Object.assign(tables, provisioned.tables);
    Object.assign(queues, provisioned.queues);
    // With every stack's resources so far, since a function may consume a queue an earlier stack made.
    functions.push(...templateFunctions(templates[index], { tables, queues }, exports).map((fn) => ({ ...fn, ...app })));
    exports = { ...exports, ...templateExports(templates[index], provisioned) };
  }
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });

  const handlers = new Map<string, LambdaHandler>();
  const handlerOf = (fn: LocalFunction): LambdaHandler => {
    const loaded = handlers.get(fn.name);
    if (loaded) return loaded;
    // Each bundle reads its environment at cold start, as in Lambda: give it the template's variables first.
    Object.assign(process.env, fn.environment);
    const handler = require(join(WORKSPACE, 'dist', 'apps', fn.project, fn.name, 'index.js')).handler as LambdaHandler;
    handlers.set(fn.name, handler);
    return handler;
  };

  return {
    aws,
    alma,
    functions,
    queues,
    tables,
    async publish(eventType, body) {
      const fn = functions.find((candidate) => candidate.topics.includes(eventType));
      if (!fn) throw new Error(`No function is subscribed to ${eventType}; subscribed topics: ${functions.flatMap((f) => f.topics).join(', ')}`);
      const failureQueueUrl = fn.onFailureQueue ? queues[fn.onFailureQueue] : undefined;
      const result = await invokeAsync(handlerOf(fn), snsEvent(topicArn(eventType), body), {
        functionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${fn.service}-${STAGE}-${fn.name}`,
        maximumRetryAttempts: fn.maximumRetryAttempts,
        onFailure: async (record) => {
          if (!failureQueueUrl) throw new Error(`${fn.name} has no on-failure destination: the event would be lost`);
          await sqs.send(new SendMessageCommand({ QueueUrl: failureQueueUrl, MessageBody: JSON.stringify(record) }));
        },
      });
      return { functionName: fn.name, ...result };
    },
    async deliverQueue(queueUrl) {
      const fn = functions.find((candidate) => candidate.queues.includes(queueUrl));
      if (!fn) throw new Error(`No function consumes ${queueUrl}`);
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }),
      );
      if (Messages.length === 0) return undefined;
      const response = (await handlerOf(fn)(sqsEvent(queueUrl, Messages), {})) as SQSBatchResponse | undefined;
      const failed = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
      const done = Messages.filter((message) => !failed.has(message.MessageId ?? ''));
      if (done.length > 0) {
        await sqs.send(
          new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: done.map((message, i) => ({ Id: String(i), ReceiptHandle: message.ReceiptHandle })) }),
        );
      }
      return { functionName: fn.name, received: Messages.length, failed: failed.size };
    },
    async stop() {
      sqs.destroy();
      await alma.close();
      await aws.stop();
    },
  };
};

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { APIGatewayProxyEventV2, DynamoDBBatchResponse, DynamoDBRecord, SQSBatchResponse } from 'aws-lambda';
import { AlmaEventType } from '@alma-cache/cache-domain';
import { parameterNames } from '../system/preflight';
import { overridesFromOutputs, type Stage, SYSTEM_STACKS } from '../system/stacks';
import { type FakeAlmaServer, startFakeAlmaServer } from '@alma-cache/alma-api/testing';
import {
  type HttpApiServer,
  type JwtClaims,
  type LambdaHandler,
  type LocalAws,
  NX_BIN,
  provisionFromTemplate,
  runNode,
  sqsEvent,
  sqsRecord,
  startHttpApiServer,
  startLocalAws,
  TableStreamReader,
} from '@alma-cache/local-aws';
import {
  queueArn,
  readPackagedTemplate,
  type StackExports,
  type TemplateFunction,
  templateExports,
  templateFunctions,
  templateRoutes,
  templateTopics,
} from './template';
import { describeStreamDelivery, LocalStreamMapping, type StreamDelivery } from './stream-mapping';

export type { StreamDelivery } from './stream-mapping';

export const WORKSPACE = resolve(__dirname, '..', '..');

/**
 * Why a webhook topic cannot be delivered: no function's queue is subscribed to it. The asynchronous SNS invocation
 * the cache-update functions once had is not emulated any more: each must read its own queue.
 */
const unqueuedTopic = (eventType: string, functions: readonly TemplateFunction[]): string => {
  const direct = functions.find((fn) => fn.topics.includes(eventType));
  return direct
    ? `${direct.name} is subscribed to ${eventType} without a queue of its own: every cache-update function reads its own queue (SNS raw → SQS → Lambda, see apps/sns-lambdas/serverless.yml); asynchronous SNS invocation is not emulated`
    : `No function's queue is subscribed to ${eventType}: its webhooks would be lost (subscribed topics: ${functions.flatMap((fn) => fn.topics).join(', ') || 'none'})`;
};
const REGION = 'eu-west-1';
const ACCOUNT = '000000000000';
const STAGE: Stage = 'stg';
const topicArn = (event: string) => `arn:aws:sns:${REGION}:${ACCOUNT}:${event}`;
/**
 * The SSM parameters the stacks read (Alma API key, webhook secret, query log pepper), at their serverless.yml
 * defaults: the run writes these and packages the apps with exactly these names, whatever the shell exports.
 */
const PARAMETER_NAMES = parameterNames(STAGE, {});
/** The patron the local patron token speaks for: the demo's patron. */
export const LOCAL_DEMO_PATRON = 'PAT0042X';

/**
 * The deployable apps the local run serves. The topics stack (alma-topics) is not among them: the local run creates
 * the eight topics itself and hands their ARNs to the others through the per-stage overrides.
 */
const APPS = SYSTEM_STACKS.filter((stack) =>
  ['sns-lambdas', 'refresh-lambdas', 'webhook-receiver', 'change-lambdas', 'query-api'].includes(stack.project),
);
type App = (typeof APPS)[number];

/**
 * The apps in waves, in the system's deploy order (tools/system/stacks.ts): each wave reads only outputs of earlier
 * waves, so its apps are packaged side by side.
 *
 * @example
 * packagingWaves(); // [[sns-lambdas, webhook-receiver], [refresh-lambdas, change-lambdas], [query-api]]
 */
const packagingWaves = (): App[][] => {
  const waves: App[][] = [];
  const placed = new Set<string>();
  const local = new Set(APPS.map((app) => app.project));
  while (placed.size < APPS.length) {
    const wave = APPS.filter(
      (app) => !placed.has(app.project) && app.dependsOn.every((dependency) => placed.has(dependency) || !local.has(dependency)),
    );
    if (wave.length === 0)
      throw new Error(
        `The stacks' dependencies form a cycle among ${APPS.filter((app) => !placed.has(app.project))
          .map((app) => app.project)
          .join(', ')}`,
      );
    for (const app of wave) placed.add(app.project);
    waves.push(wave);
  }
  return waves;
};

/**
 * The query API's local-only token helpers (apps/query-api/src/local-auth.ts). Loaded at run time: the tools may
 * not import an app's source, and the deployed bundle never contains this file.
 */
interface LocalAuth {
  LOCAL_TOKEN_ISSUER: string;
  LOCAL_TOKEN_AUDIENCE: string;
  mintLocalToken(role: 'reader' | 'admin' | 'patron' | 'none', options?: { secret?: string; expiresInSeconds?: number; subject?: string }): string;
  verifyLocalToken(event: Pick<APIGatewayProxyEventV2, 'headers'>, options?: { secret?: string }): JwtClaims | undefined;
}
export const loadLocalAuth = (): LocalAuth => require(join(WORKSPACE, 'apps', 'query-api', 'src', 'local-auth.ts')) as LocalAuth;

/** What the CLIs (`npm run webhook`, `npm run cache`) need to talk to a running local stack. */
export interface LocalSession {
  url: string;
  webhookSecret: string;
  /** Tokens for the local JWT stand-in, signed with `tokenSecret`; they mean nothing outside this machine. */
  tokenSecret: string;
  readerToken: string;
  adminToken: string;
  /** A patron token for {@link LOCAL_DEMO_PATRON}: reads that patron only, never refreshes. */
  patronToken: string;
  /** The change notifications topic (apps/change-lambdas), for `npm run changes`. */
  changeTopicArn: string;
  /** The emulators' endpoints and dummy credentials, for tools such as `npm run redrive -- … --local`. */
  awsEnv: Record<string, string>;
  /** The fake Alma's base URL, for tools that call Alma themselves (`npm run backfill -- --local --from-alma`). */
  almaUrl: string;
}
export const SESSION_FILE = join(WORKSPACE, 'tmp', 'local-stack', 'session.json');

export interface LocalFunction extends TemplateFunction {
  project: string;
  service: string;
}

export interface QueueDelivery {
  functionName: string;
  /** The queue polled. */
  queueUrl: string;
  received: number;
  failed: number;
  /** The bodies of the messages the function finished (not reported failed), deleted from the queue. */
  doneBodies: readonly string[];
  /** Their SQS message ids, in the same order: one id handed over twice is a redelivery, not a second message. */
  doneMessageIds: readonly string[];
  /** When the function returned: its writes are in the tables from then on. */
  finishedAt: number;
  /** When the poller's receive returned the batch, just before the function was invoked with it. */
  receivedAt: number;
}

/** One invocation of a stream-triggered function by its local mapping. */
export interface StreamInvocation {
  functionName: string;
  records: readonly DynamoDBRecord[];
  startedAt: number;
  finishedAt: number;
}

export interface LocalStack {
  aws: LocalAws;
  /** Alma, played by the fake server on loopback; seed patrons on it for the refresh to find. */
  alma: FakeAlmaServer;
  /** The webhook receiver and the query API on one port, as API Gateway would serve them. */
  http: HttpApiServer;
  session: LocalSession;
  functions: LocalFunction[];
  queues: Record<string, string>;
  tables: Record<string, string>;
  /** The topics the templates create, by logical id: topic ARN (the eight Alma topics are the run's own). */
  topics: Record<string, string>;
  /**
   * Delivers a webhook body as SNS's raw delivery would, to the queue of the function subscribed to its topic, then
   * polls that queue once as Lambda's SQS trigger does. A topic delivered to no function's queue is a configuration
   * error: every cache-update function reads its own queue.
   */
  publish(eventType: string, body: string): Promise<{ functionName: string; succeeded: boolean; attempts: number; error?: Error }>;
  /**
   * Polls a queue once as Lambda's SQS event source would: one batch to the function consuming it, then deletes
   * the messages the function did not report as failed. Undefined when the queue was empty.
   */
  deliverQueue(queueUrl: string): Promise<QueueDelivery | undefined>;
  /**
   * Calls `listener` after every queue delivery, whoever polled (the dispatcher, a test, the load's extra pollers):
   * how the load tool learns when a webhook's write reached the cache. Returns the function that stops it.
   */
  observeDeliveries(listener: (delivery: QueueDelivery) => void): () => void;
  /** Calls `listener` after every invocation of a stream-triggered function (publish-changes): when, with which records. */
  observeStreamInvocations(listener: (invocation: StreamInvocation) => void): () => void;
  /**
   * Reads every table stream a function consumes once, as Lambda's stream event source mapping does: the new records
   * (and those still owed a retry) in one batch per stream to the function, which is handed them again from the first
   * record it reports failed, until the mapping's retries are spent and the rest is described on its failure queue.
   */
  deliverStreams(): Promise<StreamDelivery[]>;
  /**
   * Starts the dispatcher: from now on the SQS-triggered functions get their queues' batches (the webhook topics
   * deliver raw to the cache-update functions' queues) and the stream-triggered ones their tables' stream records.
   */
  startDispatching(log?: (line: string) => void): void;
  /** Resolves once every watched queue is empty, every stream read to its end, and nothing is being delivered. */
  settle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Long enough for a cold `nx build` of every bundle or an osls package on a busy machine; only a hang reaches it. */
const RUN_TIMEOUT_MS = 10 * 60_000;

// Asynchronous, so that the emulators start while the bundles build and independent apps package side by side.
const run = async (title: string, args: readonly string[], env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<void> => {
  log(`${title}…`);
  const { code, output, ms } = await runNode(args, env, RUN_TIMEOUT_MS, WORKSPACE);
  if (code !== 0) throw new Error(`${title} failed (${code === null ? 'killed' : `exit ${code}`}):\n${output}`);
  log(`${title}: done in ${(ms / 1000).toFixed(1)} s`);
};

/** Each table's stream ARN by the table's logical id, for the tables that have a stream. */
const tableStreams = async (tables: Record<string, string>): Promise<Record<string, string>> => {
  const dynamodb = new DynamoDBClient({});
  try {
    const described = await Promise.all(
      Object.entries(tables).map(
        async ([logicalId, name]) =>
          [logicalId, (await dynamodb.send(new DescribeTableCommand({ TableName: name }))).Table?.LatestStreamArn] as const,
      ),
    );
    return Object.fromEntries(described.filter((entry): entry is readonly [string, string] => typeof entry[1] === 'string'));
  } finally {
    dynamodb.destroy();
  }
};

/**
 * Builds the real bundles of both services, packages their real serverless.yml offline, starts the emulators and a
 * fake Alma, provisions the tables and queues the templates declare (the refresh stack reading the cache-update stack's
 * outputs, as osls would at deploy time), and loads each function's bundle with the environment its template gives it.
 *
 * @example
 * const stack = await startLocalStack({ log: console.log });
 * await stack.publish('LOAN_CREATED', webhookBody);
 * await stack.deliverQueue(stack.queues['UsersQueue']);
 */
export const startLocalStack = async (opts: {
  log: (line: string) => void;
  backend?: string;
  /** The HTTP port for the webhook receiver and the query API; 0 (the default) picks a free one. */
  port?: number;
  /** One line per HTTP request. */
  httpLog?: (line: string) => void;
}): Promise<LocalStack> => {
  const { log } = opts;
  // The bundles run on Lambda's Node 22; the SDK's warning about this machine's Node 20 would repeat per bundle.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  // First, so that its URL is what the packaged refresh functions call.
  const alma = await startFakeAlmaServer();
  log(`fake Alma API on ${alma.url}`);
  const topicEnv = Object.fromEntries(Object.values(AlmaEventType).map((event) => [`${event}_TOPIC_ARN_STG`, topicArn(event)]));
  const localAuth = loadLocalAuth();
  const env = {
    ...process.env,
    ...topicEnv,
    ALMA_API_BASE_URL: alma.url,
    ALMA_API_KEY_NAME: PARAMETER_NAMES.almaApiKey,
    ALMA_WEBHOOK_SECRET_NAME: PARAMETER_NAMES.webhookSecret,
    QUERY_LOG_PEPPER_NAME: PARAMETER_NAMES.queryLogPepper,
    // The query API's JWT authorizer: locally, tokens minted by apps/query-api/src/local-auth.ts.
    QUERY_API_JWT_ISSUER_STG: localAuth.LOCAL_TOKEN_ISSUER,
    QUERY_API_JWT_AUDIENCE_STG: localAuth.LOCAL_TOKEN_AUDIENCE,
    NX_NO_CLOUD: 'true',
    NX_DAEMON: 'false',
    NX_TUI: 'false',
  };
  const projects = APPS.map((app) => app.project);
  const building = run(
    `building the function bundles (nx run-many -t build -p ${projects.join(' ')})`,
    [NX_BIN, 'run-many', '-t', 'build', '-p', ...projects, '--outputStyle=static'],
    env,
    log,
  );
  // Offline, osls cannot read an earlier stack's outputs (`${cf:…}` calls DescribeStacks): each app is packaged after
  // the ones it reads are provisioned, and handed their outputs through the per-stage override variables.
  const packageOffline = async (app: App, crossStack: Record<string, string>) => {
    const packageDir = join(WORKSPACE, 'tmp', 'local-stack', app.project);
    mkdirSync(packageDir, { recursive: true });
    await run(
      `packaging apps/${app.project}/serverless.yml offline (osls package --stage ${STAGE})`,
      [join(WORKSPACE, 'tools', 'scripts', 'sls.mjs'), 'package', '--app', `apps/${app.project}`, '--stage', STAGE, '--package-dir', packageDir],
      { ...env, ...crossStack },
      log,
    );
    return readPackagedTemplate(join(WORKSPACE, 'apps', app.project), packageDir);
  };

  // The emulators start while the bundles build; either failing stops the other's result from being used.
  const [built, started] = await Promise.allSettled([building, startLocalAws({ backend: opts.backend ?? process.env['AWS_TEST_BACKEND'], log })]);
  if (started.status === 'rejected') throw started.reason;
  const aws = started.value;
  if (built.status === 'rejected') {
    await aws.stop();
    throw built.reason;
  }
  log(`emulators: ${aws.description}`);
  Object.assign(process.env, aws.env);
  const webhookSecret = randomBytes(18).toString('base64url');
  const ssm = new SSMClient({});
  await ssm.send(new PutParameterCommand({ Name: PARAMETER_NAMES.almaApiKey, Type: 'SecureString', Value: alma.apiKey, Overwrite: true }));
  await ssm.send(new PutParameterCommand({ Name: PARAMETER_NAMES.webhookSecret, Type: 'SecureString', Value: webhookSecret, Overwrite: true }));
  await ssm.send(
    new PutParameterCommand({
      Name: PARAMETER_NAMES.queryLogPepper,
      Type: 'SecureString',
      Value: randomBytes(32).toString('base64'),
      Overwrite: true,
    }),
  );
  ssm.destroy();

  const tables: Record<string, string> = {};
  const queues: Record<string, string> = {};
  const topics: Record<string, string> = {};
  const streams: Record<string, string> = {};
  const functions: LocalFunction[] = [];
  let exports: StackExports = {};
  const templates: ReturnType<typeof readPackagedTemplate>[] = [];
  const crossStack: Record<string, string> = {};
  const sns = new SNSClient({});
  for (const wave of packagingWaves()) {
    const packaged = await Promise.all(wave.map((app) => packageOffline(app, { ...crossStack })));
    templates.push(...packaged);
    const provisioned = [];
    for (const template of packaged) {
      const resources = await provisionFromTemplate(template, aws.env, { log });
      Object.assign(tables, resources.tables);
      Object.assign(queues, resources.queues);
      // What provisionFromTemplate leaves to its caller: the template's topics, and the streams of its tables.
      for (const [logicalId, name] of Object.entries(templateTopics(template))) {
        topics[logicalId] = (await sns.send(new CreateTopicCommand({ Name: name }))).TopicArn!;
        log(`created topic ${name} (${logicalId})`);
      }
      Object.assign(streams, await tableStreams(resources.tables));
      provisioned.push(resources);
    }
    for (const [index, app] of wave.entries()) {
      // With every stack's resources so far, since a function may consume a queue or stream an earlier stack made.
      functions.push(
        ...templateFunctions(packaged[index], { tables, queues, topics, streams }, exports).map((fn) => ({
          ...fn,
          project: app.project,
          service: app.service,
        })),
      );
      exports = { ...exports, ...templateExports(packaged[index], { ...provisioned[index], topics, streams }) };
    }
    const outputs = Object.fromEntries(Object.entries(exports).map(([name, value]) => [name.replace(`alma-cache-${STAGE}-`, ''), value]));
    for (const app of wave) Object.assign(crossStack, overridesFromOutputs(app.project, STAGE, outputs));
  }
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });

  // The topics the webhook receiver publishes to, each subscribed raw to the queue of the cache-update function its
  // template subscribes (SNS → SQS → Lambda); those queues are polled like the refresh's (deliverQueue). A topic no
  // function's queue is subscribed to would lose its events: a configuration error, stated before anything runs.
  for (const eventType of Object.values(AlmaEventType)) {
    const ownQueue = functions.find((fn) => fn.topicQueues[eventType] !== undefined)?.topicQueues[eventType];
    if (ownQueue === undefined) throw new Error(unqueuedTopic(eventType, functions));
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: eventType }));
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: queueArn(ownQueue), Attributes: { RawMessageDelivery: 'true' } }));
  }
  sns.destroy();
  log(`created ${Object.values(AlmaEventType).length} topics, each delivering raw to its function's queue`);

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

  const functionNamed = (name: string): LocalFunction => {
    const fn = functions.find((candidate) => candidate.name === name);
    if (!fn) throw new Error(`No function ${name} in the packaged templates`);
    return fn;
  };
  const tokenSecret = randomBytes(24).toString('base64url');
  const routes = templates
    .flatMap((template) => templateRoutes(template))
    .map((route) => ({
      method: route.method,
      path: route.path,
      auth: route.auth,
      scopes: route.scopes,
      handler: (event: APIGatewayProxyEventV2, context: object) =>
        handlerOf(functionNamed(route.functionName))(event, { ...context }) as Promise<object>,
    }));
  const http = await startHttpApiServer({
    routes,
    port: opts.port ?? 0,
    authorize: (event) => localAuth.verifyLocalToken(event, { secret: tokenSecret }),
    log: opts.httpLog,
  });
  log(`HTTP API on ${http.url}: ${routes.map((route) => `${route.method} ${route.path}`).join(', ')}`);
  const session: LocalSession = {
    url: http.url,
    webhookSecret,
    tokenSecret,
    readerToken: localAuth.mintLocalToken('reader', { secret: tokenSecret, expiresInSeconds: 12 * 3600 }),
    adminToken: localAuth.mintLocalToken('admin', { secret: tokenSecret, expiresInSeconds: 12 * 3600 }),
    patronToken: localAuth.mintLocalToken('patron', { secret: tokenSecret, expiresInSeconds: 12 * 3600, subject: LOCAL_DEMO_PATRON }),
    changeTopicArn: topics['CacheChangesTopic'] ?? '',
    awsEnv: aws.env,
    almaUrl: alma.url,
  };
  mkdirSync(dirname(SESSION_FILE), { recursive: true });
  writeFileSync(SESSION_FILE, `${JSON.stringify(session, null, 2)}\n`);

  let dispatching = false;
  let inFlight = 0;
  const deliveryListeners = new Set<(delivery: QueueDelivery) => void>();
  const streamListeners = new Set<(invocation: StreamInvocation) => void>();
  const pollers: Promise<void>[] = [];
  const sqsTriggered = functions.flatMap((fn) => fn.queues);
  const watched = sqsTriggered;

  const functionArnOf = (fn: LocalFunction) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${fn.service}-${STAGE}-${fn.name}`;

  /** What Lambda sends a stream mapping's on-failure destination: the batch's place in the stream, not its records. */
  const describeGivenUpBatch = async (fn: LocalFunction, streamArn: string, records: DynamoDBRecord[], invocations: number) => {
    const first = records[0]?.dynamodb?.SequenceNumber ?? '0';
    const streamsClient = new DynamoDBStreamsClient({ endpoint: aws.env['AWS_ENDPOINT_URL_DYNAMODB'] });
    try {
      const { StreamDescription } = await streamsClient.send(new DescribeStreamCommand({ StreamArn: streamArn }));
      const shard = StreamDescription?.Shards?.find(
        ({ SequenceNumberRange: range }) =>
          BigInt(range?.StartingSequenceNumber ?? '0') <= BigInt(first) &&
          (range?.EndingSequenceNumber === undefined || BigInt(first) <= BigInt(range.EndingSequenceNumber)),
      );
      const arrival = (record?: DynamoDBRecord) => new Date((record?.dynamodb?.ApproximateCreationDateTime ?? 0) * 1000).toISOString();
      return {
        requestContext: {
          requestId: randomUUID(),
          functionArn: functionArnOf(fn),
          condition: 'RetryAttemptsExhausted',
          approximateInvokeCount: invocations,
        },
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        version: '1.0',
        timestamp: new Date().toISOString(),
        DDBStreamBatchInfo: {
          shardId: shard?.ShardId,
          startSequenceNumber: first,
          endSequenceNumber: records.at(-1)?.dynamodb?.SequenceNumber,
          approximateArrivalOfFirstRecord: arrival(records[0]),
          approximateArrivalOfLastRecord: arrival(records.at(-1)),
          batchSize: records.length,
          streamArn,
        },
      };
    } finally {
      streamsClient.destroy();
    }
  };

  // One mapping per stream a function consumes, reading from the stream's oldest record (the mappings' TRIM_HORIZON).
  const streamReaders: TableStreamReader[] = [];
  const streamMappings = functions.flatMap((fn) =>
    fn.streams.map(
      (mapping) =>
        new LocalStreamMapping(
          streamReaders[streamReaders.push(new TableStreamReader(mapping.streamArn, aws.env['AWS_ENDPOINT_URL_DYNAMODB'])) - 1],
          {
            functionName: fn.name,
            streamArn: mapping.streamArn,
            batchSize: mapping.batchSize,
            maximumRetryAttempts: mapping.maximumRetryAttempts,
            invoke: async (event) => {
              inFlight += 1;
              const startedAt = Date.now();
              try {
                return (await handlerOf(fn)(event, {})) as DynamoDBBatchResponse | undefined;
              } finally {
                inFlight -= 1;
                const invocation = { functionName: fn.name, records: event.Records, startedAt, finishedAt: Date.now() };
                for (const listener of streamListeners) listener(invocation);
              }
            },
            giveUp: async (records, invocations) => {
              const failureQueueUrl = mapping.onFailureQueue ? queues[mapping.onFailureQueue] : undefined;
              // Without a destination Lambda moves on all the same; the records stay in the stream for 24 h.
              if (!failureQueueUrl) return;
              const record = await describeGivenUpBatch(fn, mapping.streamArn, records, invocations);
              await sqs.send(new SendMessageCommand({ QueueUrl: failureQueueUrl, MessageBody: JSON.stringify(record) }));
            },
          },
        ),
    ),
  );

  const stack: LocalStack = {
    aws,
    alma,
    http,
    session,
    functions,
    queues,
    tables,
    topics,
    async publish(eventType, body) {
      const fn = functions.find((candidate) => candidate.topics.includes(eventType));
      if (!fn) throw new Error(`No function is subscribed to ${eventType}; subscribed topics: ${functions.flatMap((f) => f.topics).join(', ')}`);
      const ownQueue = fn.topicQueues[eventType];
      if (ownQueue === undefined) throw new Error(unqueuedTopic(eventType, functions));
      // As SNS's raw delivery would, then one poll as Lambda's SQS trigger does (other messages waiting there go too).
      await sqs.send(new SendMessageCommand({ QueueUrl: ownQueue, MessageBody: body }));
      const delivery = await stack.deliverQueue(ownQueue);
      const failed = delivery?.failed ?? 0;
      return {
        functionName: fn.name,
        succeeded: failed === 0,
        attempts: 1,
        ...(failed === 0 ? {} : { error: new Error(`${failed} message(s) failed: they come back after their backoff`) }),
      };
    },
    async deliverQueue(queueUrl) {
      const fn = functions.find((candidate) => candidate.queues.includes(queueUrl));
      if (!fn) throw new Error(`No function consumes ${queueUrl}`);
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }),
      );
      if (Messages.length === 0) return undefined;
      const receivedAt = Date.now();
      inFlight += 1;
      try {
        const event = sqsEvent(
          Messages.map((message) =>
            sqsRecord(message.Body ?? '', queueArn(queueUrl), {
              messageId: message.MessageId,
              receiptHandle: message.ReceiptHandle,
              receiveCount: Number(message.Attributes?.['ApproximateReceiveCount'] ?? 1),
              sentTimestamp: Number(message.Attributes?.['SentTimestamp'] ?? Date.now()),
            }),
          ),
        );
        const response = (await handlerOf(fn)(event, {})) as SQSBatchResponse | undefined;
        const finishedAt = Date.now();
        const failed = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
        const done = Messages.filter((message) => !failed.has(message.MessageId ?? ''));
        if (done.length > 0) {
          await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: done.map((message, i) => ({ Id: String(i), ReceiptHandle: message.ReceiptHandle })),
            }),
          );
        }
        const delivery = {
          functionName: fn.name,
          queueUrl,
          received: Messages.length,
          failed: failed.size,
          doneBodies: done.map((message) => message.Body ?? ''),
          doneMessageIds: done.map((message) => message.MessageId ?? ''),
          finishedAt,
          receivedAt,
        };
        for (const listener of deliveryListeners) listener(delivery);
        return delivery;
      } finally {
        inFlight -= 1;
      }
    },
    observeDeliveries(listener) {
      deliveryListeners.add(listener);
      return () => deliveryListeners.delete(listener);
    },
    observeStreamInvocations(listener) {
      streamListeners.add(listener);
      return () => streamListeners.delete(listener);
    },
    async deliverStreams() {
      const deliveries = await Promise.all(streamMappings.map((mapping) => mapping.poll()));
      return deliveries.filter((delivery): delivery is StreamDelivery => delivery !== undefined);
    },
    startDispatching(dispatchLog = () => undefined) {
      if (dispatching) return;
      dispatching = true;
      const loop = async (work: () => Promise<unknown>, label: string) => {
        while (dispatching) {
          try {
            await work();
          } catch (error) {
            if (dispatching) dispatchLog(`dispatcher (${label}): ${(error as Error).message}`);
            await new Promise((resolve) => setTimeout(resolve, 500));
          }
        }
      };
      for (const queueUrl of sqsTriggered) {
        pollers.push(
          loop(
            async () => {
              const delivered = await stack.deliverQueue(queueUrl);
              if (delivered)
                dispatchLog(`${queueUrl.split('/').pop()} → ${delivered.functionName}: ${delivered.received} message(s), ${delivered.failed} failed`);
            },
            queueUrl.split('/').pop() ?? queueUrl,
          ),
        );
      }
      for (const mapping of streamMappings) {
        pollers.push(
          loop(async () => {
            const delivered = await mapping.poll();
            if (delivered) dispatchLog(describeStreamDelivery(delivered));
            // Lambda polls a shard about four times a second; an idle local stream is read twice a second.
            else await new Promise((resolve) => setTimeout(resolve, 500));
          }, `${mapping.table} stream`),
        );
      }
    },
    async settle(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let quietRounds = 0;
      let busy: string[] = [];
      // Two quiet looks in a row: a message can be between a receive and the function that consumes it.
      while (quietRounds < 2) {
        if (Date.now() > deadline) {
          throw new Error(
            `the local stack did not settle within ${timeoutMs} ms (${inFlight} deliveries running; messages in ${busy.join(', ') || 'no queue'})`,
          );
        }
        const counts = await Promise.all(
          watched.map(async (queueUrl) => {
            const { Attributes = {} } = await sqs.send(
              new GetQueueAttributesCommand({
                QueueUrl: queueUrl,
                AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
              }),
            );
            return Number(Attributes['ApproximateNumberOfMessages'] ?? 0) + Number(Attributes['ApproximateNumberOfMessagesNotVisible'] ?? 0);
          }),
        );
        busy = watched.filter((_, index) => counts[index] > 0).map((url) => `${url.split('/').pop()} (${counts[watched.indexOf(url)]})`);
        // A stream has no depth to ask for: read it (delivering what is there, once dispatching) and see what is owed.
        const streamed = dispatching ? await stack.deliverStreams().catch((error: Error) => [error]) : [];
        busy.push(
          ...streamed.map((delivery) =>
            delivery instanceof Error ? `a stream (${delivery.message})` : `${delivery.table} stream (${delivery.received})`,
          ),
        );
        busy.push(...streamMappings.filter((mapping) => mapping.owed > 0).map((mapping) => `${mapping.table} stream (${mapping.owed} owed)`));
        quietRounds = inFlight === 0 && busy.length === 0 ? quietRounds + 1 : 0;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    async stop() {
      dispatching = false;
      await Promise.all(pollers);
      for (const reader of streamReaders) reader.close();
      await http.close();
      sqs.destroy();
      await alma.close();
      await aws.stop();
    },
  };
  return stack;
};

import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { SQSClient } from '@aws-sdk/client-sqs';
import {
  type AlmaApi,
  AuditPatrons,
  type CacheStore,
  type Clock,
  type ItemKind,
  RefreshItem,
  type RefreshDeps,
  RefreshUser,
} from '@alma-cache/cache-domain';
import {
  bindClient,
  bindFunctionBasics,
  type CachedSecret,
  cachedSsmSecret,
  createDocumentClient,
  createSqsClient,
  createSsmClient,
  DynamoDbAlmaCallBudget,
  DynamoDbCacheAuditReader,
  DynamoDbCacheStore,
  DynamoDbUnknownPatrons,
  type Environment,
  type FailureParking,
  type MessageDelay,
  SqsFailureParking,
  SqsMessageDelay,
  tracedHttpExchange,
} from '@alma-cache/aws-adapters';
import { AlmaHttpApi } from '@alma-cache/alma-api';
import { Container } from 'inversify';
import { AlmaCallMeter } from './alma-call-meter';
import { loadAuditConfig } from './audit-config';
import { AuditRunner } from './audit-runner';
import { loadConfig, type RefreshLambdasConfig } from './config';
import { createRefreshBatchHandler } from './refresh-batch-handler';
import { countAlmaThrottled } from './refresh-metrics';
import { itemRefreshProcessor, userRefreshProcessor } from './refresh-processors';

// The one wiring file of the bulk refresh, top to bottom: what its containers provide (TOKENS); what every function
// shares, the Alma client built here only (bindRefreshBasics); the four queue functions' container (buildContainer)
// and their handler (refreshHandlerOf); the drift audit's container (buildAuditContainer). Each handlers/*.ts builds
// the one container it needs at module scope, where serverless.yml points, so update-user never builds the audit's
// bindings and audit-cache never the queues'.

/** Service identifiers: the one list of what the refresh functions' containers and the audit's provide. */
export const TOKENS = {
  Config: Symbol.for('RefreshLambdasConfig'),
  Logger: Symbol.for('Logger'),
  Metrics: Symbol.for('Metrics'),
  DocumentClient: Symbol.for('DynamoDBDocumentClient'),
  SsmClient: Symbol.for('SSMClient'),
  SqsClient: Symbol.for('SQSClient'),
  Clock: Symbol.for('Clock'),
  AlmaApiKey: Symbol.for('AlmaApiKey'),
  AlmaCallMeter: Symbol.for('AlmaCallMeter'),
  AlmaApi: Symbol.for('AlmaApi'),
  CacheStore: Symbol.for('CacheStore'),
  RefreshDeps: Symbol.for('RefreshDeps'),
  // The queue functions' own.
  MessageDelay: Symbol.for('MessageDelay'),
  DeadLetterQueue: Symbol.for('DeadLetterQueue'),
  RefreshUser: Symbol.for('RefreshUser'),
  RefreshItem: Symbol.for('RefreshItem'),
  // The drift audit's own.
  LogPepper: Symbol.for('AuditLogPepper'),
  AuditPatrons: Symbol.for('AuditPatrons'),
  AuditRunner: Symbol.for('AuditRunner'),
} as const;

/** How long one of the audit's Alma calls may wait for the budget before the audit yields (pauses as the error says). */
export const AUDIT_BUDGET_WAIT_MS = 2_000;

/** What the queue functions and the audit both read: tables, Alma access, expiry (the audit has no DLQ). */
type SharedConfig = Omit<RefreshLambdasConfig, 'deadLetterQueueArn'>;

/**
 * Binds what every function of the app shares, in its container: the configuration, the DynamoDB and SSM clients,
 * the one Alma client (the API key read from SSM once per container, the stage's budget from its `refresh` share, the
 * calls counted per message by the meter) and the refresh's store and write rule, which the audit's repair uses too.
 * Singletons, so a warm container reuses its SDK clients and keeps one Alma client, whose concurrency ceiling then
 * holds for the whole container.
 */
const bindRefreshBasics = (container: Container, env: Environment, config: SharedConfig, budgetMaxWaitMs?: number): void => {
  container.bind<SharedConfig>(TOKENS.Config).toConstantValue(config);
  bindFunctionBasics(container, env, 'alma-cache-refresh', TOKENS);
  bindClient(container, TOKENS.DocumentClient, createDocumentClient);
  bindClient(container, TOKENS.SsmClient, createSsmClient);
  container.bind<AlmaCallMeter>(TOKENS.AlmaCallMeter).toConstantValue(new AlmaCallMeter());
  container
    .bind<CachedSecret>(TOKENS.AlmaApiKey)
    .toResolvedValue((ssm: SSMClient) => cachedSsmSecret(ssm, config.alma.apiKeyName, config.secretCache), [TOKENS.SsmClient]);
  container.bind<AlmaApi>(TOKENS.AlmaApi).toResolvedValue(
    (apiKey: CachedSecret, meter: AlmaCallMeter, logger: Logger, metrics: Metrics, client: DynamoDBDocumentClient) =>
      new AlmaHttpApi({
        baseUrl: config.alma.baseUrl,
        apiKey: meter.countingApiKey(apiKey),
        // The bulk refresh's reserved share of the stage's budget: the query API's misses take from theirs, so every
        // function together stays under ALMA_CALLS_PER_SECOND in any sliding second and neither starves the other.
        // The audit waits only briefly, so a busy share makes it pause (AuditPatrons' `pause`) rather than queue
        // behind the refresh.
        budget: new DynamoDbAlmaCallBudget(client, config.alma.guardTable, {
          callsPerSecond: config.alma.callsPerSecond,
          share: 'refresh',
          ...(budgetMaxWaitMs === undefined ? {} : { maxWaitMs: budgetMaxWaitMs }),
        }),
        // A 401 re-reads the key once (shared, rate-limited): a key rotated in SSM is picked up before its TTL runs out.
        refreshApiKey: apiKey.refresh,
        maxConcurrentRequests: config.alma.maxConcurrentRequests,
        onRetry: (info) => {
          meter.retried();
          if (info.reason === 429) countAlmaThrottled(metrics);
          logger.warn('Alma request retried', { ...info });
        },
        // With tracing on, each Alma call is a subsegment recording the route's shape, never the patron's id.
        traceExchange: tracedHttpExchange,
      }),
    [TOKENS.AlmaApiKey, TOKENS.AlmaCallMeter, TOKENS.Logger, TOKENS.Metrics, TOKENS.DocumentClient],
  );
  container
    .bind<CacheStore>(TOKENS.CacheStore)
    .toResolvedValue((client: DynamoDBDocumentClient) => new DynamoDbCacheStore(client, config.tables), [TOKENS.DocumentClient]);
  container.bind<RefreshDeps>(TOKENS.RefreshDeps).toResolvedValue(
    (store: CacheStore, alma: AlmaApi, clock: Clock, client: DynamoDBDocumentClient) => ({
      store,
      alma,
      clock,
      expiry: config.expiry,
      // A patron Alma does not know is remembered, so the query API's misses stop asking Alma about them for a while.
      unknownPatrons: new DynamoDbUnknownPatrons(client, config.alma.guardTable),
    }),
    [TOKENS.CacheStore, TOKENS.AlmaApi, TOKENS.Clock, TOKENS.DocumentClient],
  );
};

/**
 * Wires the four queue functions (update-user, -loan, -request, -fee): the shared basics, the SQS client (the audit
 * has none), the DLQ a poison message is sent to at once, the delay that honours Alma's Retry-After, and the two use
 * cases. The domain stays decorator-free: its classes are bound with factories (`toResolvedValue`).
 *
 * @example
 * const refreshUser = buildContainer(process.env).get<RefreshUser>(TOKENS.RefreshUser);
 * @throws ConfigurationError when the environment is incomplete
 */
export const buildContainer = (env: Environment): Container => {
  const container = new Container({ defaultScope: 'Singleton' });
  const config = loadConfig(env);
  bindRefreshBasics(container, env, config);
  bindClient(container, TOKENS.SqsClient, createSqsClient);
  // Delays a message as Alma's Retry-After asks (aws-adapters sqs-batch-handler.ts).
  container.bind<MessageDelay>(TOKENS.MessageDelay).toResolvedValue((sqs: SQSClient) => new SqsMessageDelay(sqs), [TOKENS.SqsClient]);
  // Sends a poison message straight to this function's DLQ (aws-adapters sqs-batch-handler.ts); a DEAD_LETTER_QUEUE_ARN that is not
  // an SQS queue ARN stops the container at cold start.
  container
    .bind<FailureParking>(TOKENS.DeadLetterQueue)
    .toResolvedValue((sqs: SQSClient) => SqsFailureParking.forQueueArn(sqs, config.deadLetterQueueArn), [TOKENS.SqsClient]);
  container.bind(TOKENS.RefreshUser).toResolvedValue((deps: RefreshDeps) => new RefreshUser(deps), [TOKENS.RefreshDeps]);
  container.bind(TOKENS.RefreshItem).toResolvedValue((deps: RefreshDeps) => new RefreshItem(deps), [TOKENS.RefreshDeps]);
  return container;
};

/**
 * The SQS batch handler of one queue function, resolved from a container {@link buildContainer} built: the Users
 * queue's (`'user'`, one patron per message) or the Loans, Requests or Fees queue's (one record per message).
 *
 * @example
 * export const handler = refreshHandlerOf(buildContainer(process.env), 'loan');
 */
export const refreshHandlerOf = (container: Container, kind: 'user' | ItemKind): ReturnType<typeof createRefreshBatchHandler> => {
  const logger = container.get<Logger>(TOKENS.Logger);
  const metrics = container.get<Metrics>(TOKENS.Metrics);
  const meter = container.get<AlmaCallMeter>(TOKENS.AlmaCallMeter);
  const process =
    kind === 'user'
      ? userRefreshProcessor(container.get<RefreshUser>(TOKENS.RefreshUser), meter, logger, metrics)
      : itemRefreshProcessor(kind, container.get<RefreshItem>(TOKENS.RefreshItem), meter, logger, metrics);
  return createRefreshBatchHandler(
    process,
    logger,
    metrics,
    kind,
    container.get<MessageDelay>(TOKENS.MessageDelay),
    container.get<FailureParking>(TOKENS.DeadLetterQueue),
  );
};

/**
 * Wires the drift audit (handlers/audit-cache.ts, and `npm run audit`): the shared basics with the audit's own small
 * concurrency ceiling (audit-config.ts) and a short budget wait, so it yields to live traffic; the refresh's store
 * and write rule for the repair; the audit's reader, the pepper of its log lines' patron hashes, and its runner.
 *
 * @example
 * const runner = buildAuditContainer(process.env).get<AuditRunner>(TOKENS.AuditRunner);
 * const { totals } = await runner.run({ sample: 60 }, { repair: true });
 * @throws ConfigurationError when the environment is incomplete
 */
export const buildAuditContainer = (env: Environment): Container => {
  const container = new Container({ defaultScope: 'Singleton' });
  const config = loadAuditConfig(env);
  bindRefreshBasics(container, env, config, AUDIT_BUDGET_WAIT_MS);
  container
    .bind<CachedSecret>(TOKENS.LogPepper)
    .toResolvedValue((ssm: SSMClient) => cachedSsmSecret(ssm, config.audit.logPepperName, config.secretCache), [TOKENS.SsmClient]);
  container
    .bind<AuditPatrons>(TOKENS.AuditPatrons)
    .toResolvedValue(
      (deps: RefreshDeps, client: DynamoDBDocumentClient) =>
        new AuditPatrons({ ...deps, reader: new DynamoDbCacheAuditReader(client, config.tables), graceSeconds: config.audit.graceSeconds }),
      [TOKENS.RefreshDeps, TOKENS.DocumentClient],
    );
  container
    .bind<AuditRunner>(TOKENS.AuditRunner)
    .toResolvedValue(
      (audit: AuditPatrons, meter: AlmaCallMeter, logger: Logger, pepper: CachedSecret) => new AuditRunner(audit, meter, logger, pepper),
      [TOKENS.AuditPatrons, TOKENS.AlmaCallMeter, TOKENS.Logger, TOKENS.LogPepper],
    );
  return container;
};

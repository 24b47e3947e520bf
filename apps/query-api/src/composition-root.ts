import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SSMClient } from '@aws-sdk/client-ssm';
import {
  type AlmaApi,
  type CacheReader,
  type Clock,
  GetPatron,
  GetPatronItem,
  ListPatronItems,
  type PatronMissDeps,
  type PatronQueryDeps,
  QueuePatronRefresh,
  RefreshUser,
  type UnknownPatrons,
  type UserRefreshQueue,
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
  DynamoDbCacheReader,
  DynamoDbCacheStore,
  DynamoDbUnknownPatrons,
  SqsUserRefreshQueue,
  tracedHttpExchange,
} from '@alma-cache/aws-adapters';
import type { AlmaHttpApi } from '@alma-cache/alma-api';
import { Container } from 'inversify';
import { budgetCallers } from './budget-caller';
import { loadConfig, type QueryApiConfig } from './config';

// The one wiring file of the query API, top to bottom: what the container provides (TOKENS), then how it is built
// (buildContainer). query-api.ts turns a container into the route table; handlers/query-api.ts boots it once per
// Lambda container, where serverless.yml points.

/** Service identifiers: the one list of what the container provides. */
export const TOKENS = {
  Config: Symbol.for('QueryApiConfig'),
  Logger: Symbol.for('Logger'),
  Metrics: Symbol.for('Metrics'),
  DocumentClient: Symbol.for('DynamoDBDocumentClient'),
  SqsClient: Symbol.for('SQSClient'),
  SsmClient: Symbol.for('SSMClient'),
  AlmaApiKey: Symbol.for('AlmaApiKey'),
  LogPepper: Symbol.for('QueryLogPepper'),
  AlmaApi: Symbol.for('AlmaApi'),
  Clock: Symbol.for('Clock'),
  CacheReader: Symbol.for('CacheReader'),
  UserRefreshQueue: Symbol.for('UserRefreshQueue'),
  PatronMissDeps: Symbol.for('PatronMissDeps'),
  PatronQueryDeps: Symbol.for('PatronQueryDeps'),
  GetPatron: Symbol.for('GetPatron'),
  ListPatronItems: Symbol.for('ListPatronItems'),
  GetPatronItem: Symbol.for('GetPatronItem'),
  QueuePatronRefresh: Symbol.for('QueuePatronRefresh'),
} as const;

/** What the query API's Alma client is built with, on the first miss (see buildContainer). */
const almaOptions = (
  apiKey: CachedSecret,
  config: QueryApiConfig,
  logger: Logger,
  client: DynamoDBDocumentClient,
): ConstructorParameters<typeof AlmaHttpApi>[0] => ({
  baseUrl: config.alma.baseUrl,
  apiKey,
  // A 401 re-reads the key once (shared, rate-limited): a key rotated in SSM is picked up before its TTL runs out.
  refreshApiKey: apiKey.refresh,
  maxConcurrentRequests: config.alma.maxConcurrentRequests,
  maxAttempts: config.alma.maxAttempts,
  timeoutMs: config.alma.timeoutMs,
  // A Retry-After longer than this is answered to the caller at once instead of waited out here.
  backoffMaxMs: 1000,
  // The misses' share of the stage's budget (the bulk refresh keeps its own): a burst of misses waits its turn
  // instead of draining Alma, each caller within its own part of the share (429 past it), and a wait ends before
  // the request's deadline (503, the patron queued) rather than at it.
  budget: new DynamoDbAlmaCallBudget(client, config.almaGuardTable, {
    callsPerSecond: config.alma.callsPerSecond,
    share: 'query',
    caller: () => budgetCallers.getStore(),
    maxWaitMs: 10_000,
  }),
  // The path names the patron: it is logged without its ids, like every line of this function.
  onRetry: (info) => logger.warn('Alma request retried', { ...info }),
  // With tracing on, each Alma call is a subsegment recording the route's shape, never the patron's id.
  traceExchange: tracedHttpExchange,
});

/**
 * The miss path (the Alma client, the rebuild, the unknown-patron guard) built on first use: a cache hit needs none of
 * it, so a container that only serves hits never builds it. The Alma client's module is `require`d there too: esbuild
 * defers a module reached only through `require()`, so a cold start does not evaluate it (tools/bench measures both).
 */
const onFirstUse = <T>(build: () => T): (() => T) => {
  let built: T | undefined;
  return () => (built ??= build());
};

/**
 * Wires the query API. The domain stays decorator-free: its classes are bound with factories (`toResolvedValue`),
 * and everything is a singleton, so a warm container reuses its SDK clients, reads the Alma key from SSM once and
 * keeps one Alma client, whose concurrency ceiling then holds for the whole container.
 *
 * Alma is asked with short timeouts and two tries (see `ALMA_TUNING`): a caller is waiting, and API Gateway gives
 * up after 30 s.
 *
 * @example
 * const getPatron = buildContainer(process.env).get<GetPatron>(TOKENS.GetPatron);
 * @throws ConfigurationError when the environment is incomplete
 */
export const buildContainer = (env: Readonly<Record<string, string | undefined>>): Container => {
  const container = new Container({ defaultScope: 'Singleton' });

  container.bind<QueryApiConfig>(TOKENS.Config).toConstantValue(loadConfig(env));
  bindFunctionBasics(container, env, 'alma-cache-query', TOKENS);
  bindClient(container, TOKENS.DocumentClient, createDocumentClient);
  bindClient(container, TOKENS.SqsClient, createSqsClient);
  bindClient(container, TOKENS.SsmClient, createSsmClient);

  container
    .bind<CachedSecret>(TOKENS.AlmaApiKey)
    .toResolvedValue(
      (ssm: SSMClient, config: QueryApiConfig) => cachedSsmSecret(ssm, config.alma.apiKeyName, config.secretCache),
      [TOKENS.SsmClient, TOKENS.Config],
    );
  // The pepper of the patron id hashes in the log lines (see query-audit.ts): read like the API key, cached per container.
  container
    .bind<CachedSecret>(TOKENS.LogPepper)
    .toResolvedValue((ssm: SSMClient, config: QueryApiConfig) => cachedSsmSecret(ssm, config.logPepperName), [TOKENS.SsmClient, TOKENS.Config]);
  container.bind<AlmaApi>(TOKENS.AlmaApi).toResolvedValue(
    (apiKey: CachedSecret, config: QueryApiConfig, logger: Logger, client: DynamoDBDocumentClient): AlmaApi => {
      const alma = onFirstUse(() => {
        const { AlmaHttpApi } = require('@alma-cache/alma-api') as typeof import('@alma-cache/alma-api');
        return new AlmaHttpApi(almaOptions(apiKey, config, logger, client));
      });
      return {
        listRecords: (userPrimaryId, kind) => alma().listRecords(userPrimaryId, kind),
        getRecord: (userPrimaryId, kind, recordId) => alma().getRecord(userPrimaryId, kind, recordId),
      };
    },
    [TOKENS.AlmaApiKey, TOKENS.Config, TOKENS.Logger, TOKENS.DocumentClient],
  );
  container
    .bind<CacheReader>(TOKENS.CacheReader)
    .toResolvedValue(
      (client: DynamoDBDocumentClient, config: QueryApiConfig) => new DynamoDbCacheReader(client, config.tables),
      [TOKENS.DocumentClient, TOKENS.Config],
    );
  container
    .bind<UserRefreshQueue>(TOKENS.UserRefreshQueue)
    .toResolvedValue(
      (client: SQSClient, config: QueryApiConfig) => new SqsUserRefreshQueue(client, config.usersQueueUrl),
      [TOKENS.SqsClient, TOKENS.Config],
    );
  // A miss rebuilds the patron inline through the bulk refresh's RefreshUser (same writes, same consistency rules),
  // once per patron per refresh window: the claim is the webhooks' own, so queries and webhooks coalesce together.
  container.bind<PatronMissDeps>(TOKENS.PatronMissDeps).toResolvedValue(
    (client: DynamoDBDocumentClient, config: QueryApiConfig, alma: AlmaApi, clock: Clock) => {
      const store = new DynamoDbCacheStore(client, { ...config.tables, refreshClaims: config.refreshClaimsTable });
      const guard = onFirstUse(() => new DynamoDbUnknownPatrons(client, config.almaGuardTable));
      const unknownPatrons: UnknownPatrons = {
        isUnknown: (userKey, nowSeconds) => guard().isUnknown(userKey, nowSeconds),
        remember: (userKey, untilSeconds) => guard().remember(userKey, untilSeconds),
      };
      const rebuild = onFirstUse(() => new RefreshUser({ store, alma, clock, expiry: config.expiry, unknownPatrons }));
      return {
        store,
        unknownPatrons,
        refreshUser: { execute: (userPrimaryId) => rebuild().execute(userPrimaryId) },
        expiry: config.expiry,
        newClaimant: () => `query:${randomUUID()}`,
        sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
      };
    },
    [TOKENS.DocumentClient, TOKENS.Config, TOKENS.AlmaApi, TOKENS.Clock],
  );
  container.bind<PatronQueryDeps>(TOKENS.PatronQueryDeps).toResolvedValue(
    (cache: CacheReader, alma: AlmaApi, refreshQueue: UserRefreshQueue, clock: Clock, miss: PatronMissDeps) => ({
      cache,
      alma,
      refreshQueue,
      clock,
      miss,
    }),
    [TOKENS.CacheReader, TOKENS.AlmaApi, TOKENS.UserRefreshQueue, TOKENS.Clock, TOKENS.PatronMissDeps],
  );

  container.bind(TOKENS.GetPatron).toResolvedValue((deps: PatronQueryDeps) => new GetPatron(deps), [TOKENS.PatronQueryDeps]);
  container.bind(TOKENS.ListPatronItems).toResolvedValue((deps: PatronQueryDeps) => new ListPatronItems(deps), [TOKENS.PatronQueryDeps]);
  container.bind(TOKENS.GetPatronItem).toResolvedValue((deps: PatronQueryDeps) => new GetPatronItem(deps), [TOKENS.PatronQueryDeps]);
  container.bind(TOKENS.QueuePatronRefresh).toResolvedValue((queue: UserRefreshQueue) => new QueuePatronRefresh(queue), [TOKENS.UserRefreshQueue]);

  return container;
};

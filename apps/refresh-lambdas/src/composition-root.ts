import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { type AlmaApi, type CacheStore, type Clock, RefreshItem, type RefreshDeps, RefreshUser } from '@alma-cache/cache-domain';
import {
  bindFunctionBasics,
  type CachedSecret,
  cachedSsmSecret,
  DynamoDbAlmaCallBudget,
  DynamoDbCacheStore,
  DynamoDbUnknownPatrons,
  type FailureParking,
  type MessageDelay,
  SqsFailureParking,
  SqsMessageDelay,
  tracedHttpExchange,
} from '@alma-cache/aws-adapters';
import { AlmaHttpApi } from '@alma-cache/alma-api';
import { Container } from 'inversify';
import { AlmaCallMeter } from './alma-call-meter';
import { loadConfig, type RefreshLambdasConfig } from './config';
import { countAlmaThrottled } from './refresh-metrics';

/** Service identifiers: the one list of what the refresh functions' container (and the audit's) provides. */
export const TOKENS = {
  Config: Symbol.for('RefreshLambdasConfig'),
  Logger: Symbol.for('Logger'),
  Metrics: Symbol.for('Metrics'),
  DocumentClient: Symbol.for('DynamoDBDocumentClient'),
  SsmClient: Symbol.for('SSMClient'),
  SqsClient: Symbol.for('SQSClient'),
  MessageDelay: Symbol.for('MessageDelay'),
  DeadLetterQueue: Symbol.for('DeadLetterQueue'),
  AlmaApiKey: Symbol.for('AlmaApiKey'),
  AlmaCallMeter: Symbol.for('AlmaCallMeter'),
  AlmaApi: Symbol.for('AlmaApi'),
  Clock: Symbol.for('Clock'),
  CacheStore: Symbol.for('CacheStore'),
  RefreshDeps: Symbol.for('RefreshDeps'),
  RefreshUser: Symbol.for('RefreshUser'),
  RefreshItem: Symbol.for('RefreshItem'),
} as const;

/**
 * Wires the four refresh functions. The domain stays decorator-free: its classes are bound with factories
 * (`toResolvedValue`), and everything is a singleton, so that a warm container reuses its SDK clients, reads the API
 * key from SSM once, and shares one Alma client, whose concurrency ceiling then holds for the whole container.
 *
 * @example
 * const refreshUser = buildContainer(process.env).get<RefreshUser>(TOKENS.RefreshUser);
 */
export const buildContainer = (env: Readonly<Record<string, string | undefined>>): Container => {
  const container = new Container({ defaultScope: 'Singleton' });

  container.bind<RefreshLambdasConfig>(TOKENS.Config).toConstantValue(loadConfig(env));
  bindFunctionBasics(container, env, 'alma-cache-refresh', TOKENS);
  // Delays a message as Alma's Retry-After asks (aws-adapters sqs-batch-handler.ts).
  container.bind<MessageDelay>(TOKENS.MessageDelay).toResolvedValue((sqs: SQSClient) => new SqsMessageDelay(sqs), [TOKENS.SqsClient]);
  // Sends a poison message straight to this function's DLQ (aws-adapters sqs-batch-handler.ts); a DEAD_LETTER_QUEUE_ARN that is not
  // an SQS queue ARN stops the container at cold start.
  container
    .bind<FailureParking>(TOKENS.DeadLetterQueue)
    .toResolvedValue(
      (sqs: SQSClient, config: RefreshLambdasConfig) => SqsFailureParking.forQueueArn(sqs, config.deadLetterQueueArn),
      [TOKENS.SqsClient, TOKENS.Config],
    );
  container.bind<AlmaCallMeter>(TOKENS.AlmaCallMeter).toConstantValue(new AlmaCallMeter());

  container
    .bind<CachedSecret>(TOKENS.AlmaApiKey)
    .toResolvedValue(
      (ssm: SSMClient, config: RefreshLambdasConfig) => cachedSsmSecret(ssm, config.alma.apiKeyName, config.secretCache),
      [TOKENS.SsmClient, TOKENS.Config],
    );
  container.bind<AlmaApi>(TOKENS.AlmaApi).toResolvedValue(
    (apiKey: CachedSecret, meter: AlmaCallMeter, config: RefreshLambdasConfig, logger: Logger, metrics: Metrics, client: DynamoDBDocumentClient) =>
      new AlmaHttpApi({
        baseUrl: config.alma.baseUrl,
        apiKey: meter.countingApiKey(apiKey),
        // The bulk refresh's reserved share of the stage's budget: the query API's misses take from theirs, so every
        // function together stays under ALMA_CALLS_PER_SECOND in any sliding second and neither starves the other.
        budget: new DynamoDbAlmaCallBudget(client, config.alma.guardTable, { callsPerSecond: config.alma.callsPerSecond, share: 'refresh' }),
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
    [TOKENS.AlmaApiKey, TOKENS.AlmaCallMeter, TOKENS.Config, TOKENS.Logger, TOKENS.Metrics, TOKENS.DocumentClient],
  );
  container
    .bind<CacheStore>(TOKENS.CacheStore)
    .toResolvedValue(
      (client: DynamoDBDocumentClient, config: RefreshLambdasConfig) => new DynamoDbCacheStore(client, config.tables),
      [TOKENS.DocumentClient, TOKENS.Config],
    );
  container.bind<RefreshDeps>(TOKENS.RefreshDeps).toResolvedValue(
    (store: CacheStore, alma: AlmaApi, clock: Clock, config: RefreshLambdasConfig, client: DynamoDBDocumentClient) => ({
      store,
      alma,
      clock,
      expiry: config.expiry,
      // A patron Alma does not know is remembered, so the query API's misses stop asking Alma about them for a while.
      unknownPatrons: new DynamoDbUnknownPatrons(client, config.alma.guardTable),
    }),
    [TOKENS.CacheStore, TOKENS.AlmaApi, TOKENS.Clock, TOKENS.Config, TOKENS.DocumentClient],
  );

  container.bind(TOKENS.RefreshUser).toResolvedValue((deps: RefreshDeps) => new RefreshUser(deps), [TOKENS.RefreshDeps]);
  container.bind(TOKENS.RefreshItem).toResolvedValue((deps: RefreshDeps) => new RefreshItem(deps), [TOKENS.RefreshDeps]);

  return container;
};

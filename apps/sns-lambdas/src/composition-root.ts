import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import {
  type CacheStore,
  type Clock,
  CloseRequest,
  type ItemSyncDeps,
  RecordLoan,
  RecordRequest,
  RemoveLoan,
  type UserRefreshQueue,
} from '@alma-cache/cache-domain';
import {
  bindClient,
  bindFunctionBasics,
  createDocumentClient,
  createSqsClient,
  DynamoDbCacheStore,
  type FailureParking,
  type MessageDelay,
  type MessageSender,
  SqsFailureParking,
  SqsMessageDelay,
  SqsMessageSender,
  SqsUserRefreshQueue,
} from '@alma-cache/aws-adapters';
import { Container } from 'inversify';
import { loadConfig, type SnsLambdasConfig } from './config';
import { type ItemEventHandler, withSnsUpgradeForwarding } from './sns-upgrade-forwarder';
import { createItemEventHandler, type ItemEventUseCase } from './sqs-handler';

// The one wiring file of sns-lambdas, top to bottom: what the container provides (TOKENS), how it is built
// (buildContainer), the container a process shares (functionContainer), and a function's queue handler resolved from
// it (itemEventHandlerFor). Each handlers/<function>.ts, where serverless.yml points, is one line naming its use case.

/** Service identifiers: the one list of what the container provides. */
export const TOKENS = {
  Config: Symbol.for('SnsLambdasConfig'),
  Logger: Symbol.for('Logger'),
  Metrics: Symbol.for('Metrics'),
  DocumentClient: Symbol.for('DynamoDBDocumentClient'),
  SqsClient: Symbol.for('SQSClient'),
  CacheStore: Symbol.for('CacheStore'),
  UserRefreshQueue: Symbol.for('UserRefreshQueue'),
  DeadLetterQueue: Symbol.for('DeadLetterQueue'),
  MessageDelay: Symbol.for('MessageDelay'),
  SourceQueue: Symbol.for('SourceQueue'),
  Clock: Symbol.for('Clock'),
  ItemSyncDeps: Symbol.for('ItemSyncDeps'),
  RecordLoan: Symbol.for('RecordLoan'),
  RemoveLoan: Symbol.for('RemoveLoan'),
  RecordRequest: Symbol.for('RecordRequest'),
  CloseRequest: Symbol.for('CloseRequest'),
} as const;

/**
 * Wires the four functions. The domain stays decorator-free: its classes are bound with factories
 * (`toResolvedValue`), and everything is a singleton so SDK clients and their connections are reused across
 * invocations of a warm container.
 *
 * @example
 * const recordLoan = buildContainer(process.env).get<RecordLoan>(TOKENS.RecordLoan);
 */
export const buildContainer = (env: Readonly<Record<string, string | undefined>>): Container => {
  const container = new Container({ defaultScope: 'Singleton' });

  container.bind<SnsLambdasConfig>(TOKENS.Config).toConstantValue(loadConfig(env));
  bindFunctionBasics(container, env, 'alma-cache-sns', TOKENS);
  bindClient(container, TOKENS.DocumentClient, createDocumentClient);
  bindClient(container, TOKENS.SqsClient, createSqsClient);

  container
    .bind<CacheStore>(TOKENS.CacheStore)
    .toResolvedValue(
      (client: DynamoDBDocumentClient, config: SnsLambdasConfig) => new DynamoDbCacheStore(client, config.tables),
      [TOKENS.DocumentClient, TOKENS.Config],
    );
  container
    .bind<UserRefreshQueue>(TOKENS.UserRefreshQueue)
    .toResolvedValue(
      (client: SQSClient, config: SnsLambdasConfig) => new SqsUserRefreshQueue(client, config.userQueueUrl),
      [TOKENS.SqsClient, TOKENS.Config],
    );
  // A refused event goes at once to the DLQ of the function's own queue, named by DEAD_LETTER_QUEUE_ARN (an ARN that
  // is not an SQS queue's stops the container at cold start). A failed event's backoff changes its message's visibility.
  container
    .bind<FailureParking>(TOKENS.DeadLetterQueue)
    .toResolvedValue(
      (client: SQSClient, config: SnsLambdasConfig) => SqsFailureParking.forQueueArn(client, config.deadLetterQueueArn),
      [TOKENS.SqsClient, TOKENS.Config],
    );
  container.bind<MessageDelay>(TOKENS.MessageDelay).toResolvedValue((client: SQSClient) => new SqsMessageDelay(client), [TOKENS.SqsClient]);
  // For one release (sns-upgrade-forwarder.ts): the function's own queue, SOURCE_QUEUE_URL, where an SNS event that
  // reaches it during the upgrade from the SNS path is forwarded. Goes with the forwarder in the next release.
  container
    .bind<MessageSender>(TOKENS.SourceQueue)
    .toResolvedValue(
      (client: SQSClient, config: SnsLambdasConfig) => new SqsMessageSender(client, config.sourceQueueUrl),
      [TOKENS.SqsClient, TOKENS.Config],
    );
  container.bind<ItemSyncDeps>(TOKENS.ItemSyncDeps).toResolvedValue(
    (store: CacheStore, refreshQueue: UserRefreshQueue, clock: Clock, config: SnsLambdasConfig) => ({
      store,
      refreshQueue,
      clock,
      expiry: config.expiry,
    }),
    [TOKENS.CacheStore, TOKENS.UserRefreshQueue, TOKENS.Clock, TOKENS.Config],
  );

  container.bind(TOKENS.RecordLoan).toResolvedValue((deps: ItemSyncDeps) => new RecordLoan(deps), [TOKENS.ItemSyncDeps]);
  container.bind(TOKENS.RemoveLoan).toResolvedValue((deps: ItemSyncDeps) => new RemoveLoan(deps), [TOKENS.ItemSyncDeps]);
  container.bind(TOKENS.RecordRequest).toResolvedValue((deps: ItemSyncDeps) => new RecordRequest(deps), [TOKENS.ItemSyncDeps]);
  container.bind(TOKENS.CloseRequest).toResolvedValue((deps: ItemSyncDeps) => new CloseRequest(deps), [TOKENS.ItemSyncDeps]);

  return container;
};

let shared: Container | undefined;

/**
 * The container of this process, built from `process.env` on first use: a bundle's handler file asks for it at module
 * scope, so a Lambda container's cold start pays for configuration and clients once and warm calls don't. Where
 * several handler files load in one process (the integration specs), they share it, as they would share a bundle's.
 *
 * @example
 * functionContainer().get<Logger>(TOKENS.Logger);
 */
export const functionContainer = (): Container => (shared ??= buildContainer(process.env));

/**
 * A cache-update function's handler: its queue's batches to the use case `useCase` names, refusals to its own DLQ,
 * backoff through the message's visibility (sqs-handler.ts); for one release, an SNS event (the upgrade from the SNS
 * path) forwarded to its own queue instead (sns-upgrade-forwarder.ts).
 *
 * @example
 * export const handler = itemEventHandlerFor(TOKENS.RecordLoan);
 */
export const itemEventHandlerFor = (useCase: symbol, container: Container = functionContainer()): ItemEventHandler => {
  const logger = container.get<Logger>(TOKENS.Logger);
  const queueHandler = createItemEventHandler(container.get<ItemEventUseCase>(useCase), logger, container.get<Metrics>(TOKENS.Metrics), {
    deadLetterQueue: container.get<FailureParking>(TOKENS.DeadLetterQueue),
    delay: container.get<MessageDelay>(TOKENS.MessageDelay),
  });
  return withSnsUpgradeForwarding(queueHandler, container.get<MessageSender>(TOKENS.SourceQueue), logger);
};

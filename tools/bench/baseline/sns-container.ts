// The inversify variant of the cache-update floor, for the init-cost figure: the same module scope as
// sns-baseline.ts (the DynamoDB document client, SQS, the Powertools logger and metrics), but bound in an inversify
// Container and resolved through it, with bindings of the kinds sns-lambdas' composition root makes (14: the config,
// the basics, the five adapters, the use cases' dependencies and two use cases, where the root binds four). Its cold start over the floor's is what the container costs at init.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Container } from 'inversify';

const T = {
  Config: Symbol.for('Config'),
  Logger: Symbol.for('Logger'),
  Metrics: Symbol.for('Metrics'),
  DocumentClient: Symbol.for('DynamoDBDocumentClient'),
  SqsClient: Symbol.for('SQSClient'),
  Clock: Symbol.for('Clock'),
  Store: Symbol.for('Store'),
  RefreshQueue: Symbol.for('RefreshQueue'),
  DeadLetterQueue: Symbol.for('DeadLetterQueue'),
  Delay: Symbol.for('Delay'),
  SourceQueue: Symbol.for('SourceQueue'),
  Deps: Symbol.for('Deps'),
  UseCaseA: Symbol.for('UseCaseA'),
  UseCaseB: Symbol.for('UseCaseB'),
} as const;

const serviceName = process.env['POWERTOOLS_SERVICE_NAME'] ?? 'alma-cache-sns';
const container = new Container({ defaultScope: 'Singleton' });
container.bind(T.Config).toConstantValue({ users: process.env['USER_CACHE_TABLE_NAME'], queue: process.env['USER_REFRESH_QUEUE_URL'] });
container.bind(T.Logger).toConstantValue(new Logger({ serviceName }));
container.bind(T.Metrics).toConstantValue(new Metrics({ namespace: 'AlmaCache', serviceName }));
container
  .bind(T.DocumentClient)
  .toResolvedValue(() => DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }));
container.bind(T.SqsClient).toResolvedValue(() => new SQSClient({ useQueueUrlAsEndpoint: false }));
container.bind(T.Clock).toConstantValue({ now: () => new Date() });
container.bind(T.Store).toResolvedValue((client: DynamoDBDocumentClient, config: object) => ({ client, config }), [T.DocumentClient, T.Config]);
container.bind(T.RefreshQueue).toResolvedValue((client: SQSClient, config: object) => ({ client, config }), [T.SqsClient, T.Config]);
container.bind(T.DeadLetterQueue).toResolvedValue((client: SQSClient, config: object) => ({ client, config }), [T.SqsClient, T.Config]);
container.bind(T.Delay).toResolvedValue((client: SQSClient) => ({ client }), [T.SqsClient]);
container.bind(T.SourceQueue).toResolvedValue((client: SQSClient, config: object) => ({ client, config }), [T.SqsClient, T.Config]);
container
  .bind(T.Deps)
  .toResolvedValue((store: object, refreshQueue: object, clock: object) => ({ store, refreshQueue, clock }), [T.Store, T.RefreshQueue, T.Clock]);
container.bind(T.UseCaseA).toResolvedValue((deps: object) => ({ deps }), [T.Deps]);
container.bind(T.UseCaseB).toResolvedValue((deps: object) => ({ deps }), [T.Deps]);

// Resolved at module scope, as a real handler file does: the use case, the logger, metrics, the DLQ, the delay and
// the source queue (the upgrade forwarder's).
const resolved = [T.UseCaseA, T.Logger, T.Metrics, T.DeadLetterQueue, T.Delay, T.SourceQueue].map((token) => container.get<object>(token));

/** Touches what was resolved so the bundler keeps it. */
export const handler = async (): Promise<number> => resolved.length;

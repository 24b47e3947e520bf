// The public surface: exactly what other projects import. Test fakes and fixtures come from './testing' only;
// anything else is the library's own and its tests import it from the file that declares it.
export { createDocumentClient, createSnsClient, createSqsClient } from './lib/aws-clients';
export { DynamoDbCacheStore } from './lib/dynamodb-cache-store';
export type { CacheTableNames } from './lib/table-schema';
export { DynamoDbAlmaCallBudget, DynamoDbUnknownPatrons } from './lib/dynamodb-alma-guard';
export {
  BackfillProgressError,
  type BackfillProgressErrorCode,
  type BackfillRunState,
  DynamoDbBackfillProgress,
  type DynamoDbBackfillProgressOptions,
} from './lib/dynamodb-backfill-progress';
export { type AlmaBudgetLoad, DynamoDbAlmaBudgetGauge, type DynamoDbAlmaBudgetGaugeOptions } from './lib/dynamodb-alma-budget-gauge';
export { SqsUserRefreshQueue } from './lib/sqs-user-refresh-queue';
export { type MessageDelay, type ReceivedMessage, SqsMessageDelay } from './lib/sqs-message-delay';
export { type FailureParking, isSqsText, PARKED_REASON_ATTRIBUTES, SqsFailureParking } from './lib/sqs-failure-parking';
export { type MessageSender, SqsMessageSender } from './lib/sqs-message-sender';
export { createSqsBatchHandler, type SqsBatchHandlerOptions, type SqsFailureOutcome, type SqsRecordProcessor } from './lib/sqs-batch-handler';
export {
  cachedRotatingSsmSecret,
  type CachedSecret,
  cachedSsmSecret,
  createSsmClient,
  DEFAULT_PREVIOUS_SECRET_LIFETIME_SECONDS,
  previousSecretName,
  previousSecretValue,
  type RotatingSecret,
  SECRET_REREAD_MIN_INTERVAL_MS,
  type SecretCacheOptions,
  secretCacheOptionsFromEnv,
} from './lib/ssm-secret';
export { SnsChangePublisher } from './lib/sns-change-publisher';
export { cacheTransitionOf, InvalidStreamRecordError } from './lib/cache-stream-record';
export { type CacheReaderTableNames, DynamoDbCacheReader } from './lib/dynamodb-cache-reader';
export { DynamoDbCacheAuditReader, type DynamoDbCacheAuditReaderOptions } from './lib/dynamodb-cache-audit-reader';
export { SnsWebhookPublisher, WebhookTooLargeError } from './lib/sns-webhook-publisher';
export { ConfigurationError } from './lib/configuration-error';
export { type Environment, readConfig } from './lib/config-reader';
export { raceDeadline } from './lib/deadline';
export { bindClient, bindFunctionBasics } from './lib/function-bootstrap';
export { METRICS_NAMESPACE } from './lib/metrics-namespace';
export { isSnsTopicArn } from './lib/sns-topic-arn';
export { type TracedHttpRequest, tracedHttpExchange } from './lib/tracing';

/** Service identifiers for the composition root: the one list of what the container provides. */
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

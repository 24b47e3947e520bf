/** Service identifiers for the composition root: the one list of what the container provides. */
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
  Clock: Symbol.for('Clock'),
  ItemSyncDeps: Symbol.for('ItemSyncDeps'),
  RecordLoan: Symbol.for('RecordLoan'),
  RemoveLoan: Symbol.for('RemoveLoan'),
  RecordRequest: Symbol.for('RecordRequest'),
  CloseRequest: Symbol.for('CloseRequest'),
} as const;

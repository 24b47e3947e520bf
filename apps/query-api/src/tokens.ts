/** Service identifiers for the composition root: the one list of what the container provides. */
export const TOKENS = {
  Config: Symbol.for('QueryApiConfig'),
  Logger: Symbol.for('Logger'),
  Metrics: Symbol.for('Metrics'),
  DocumentClient: Symbol.for('DynamoDBDocumentClient'),
  SqsClient: Symbol.for('SQSClient'),
  SsmClient: Symbol.for('SSMClient'),
  AlmaApiKey: Symbol.for('AlmaApiKey'),
  AlmaApi: Symbol.for('AlmaApi'),
  Clock: Symbol.for('Clock'),
  CacheReader: Symbol.for('CacheReader'),
  UserRefreshQueue: Symbol.for('UserRefreshQueue'),
  PatronQueryDeps: Symbol.for('PatronQueryDeps'),
  GetPatron: Symbol.for('GetPatron'),
  ListPatronItems: Symbol.for('ListPatronItems'),
  GetPatronItem: Symbol.for('GetPatronItem'),
  QueuePatronRefresh: Symbol.for('QueuePatronRefresh'),
} as const;

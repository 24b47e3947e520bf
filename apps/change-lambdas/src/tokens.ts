/** Service identifiers for the composition root: the one list of what the container provides. */
export const TOKENS = {
  Config: Symbol.for('ChangeLambdasConfig'),
  Logger: Symbol.for('Logger'),
  Metrics: Symbol.for('Metrics'),
  SnsClient: Symbol.for('SNSClient'),
  ChangePublisher: Symbol.for('ChangePublisher'),
  PublishCacheChanges: Symbol.for('PublishCacheChanges'),
} as const;

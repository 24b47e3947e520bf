/** Service identifiers for the composition root: the one list of what the container provides. */
export const TOKENS = {
  Config: Symbol.for('WebhookReceiverConfig'),
  Logger: Symbol.for('Logger'),
  Metrics: Symbol.for('Metrics'),
  SsmClient: Symbol.for('SSMClient'),
  SnsClient: Symbol.for('SNSClient'),
  WebhookSecret: Symbol.for('WebhookSecret'),
  WebhookPublisher: Symbol.for('WebhookPublisher'),
  ReceiveWebhook: Symbol.for('ReceiveWebhook'),
  SkipCounter: Symbol.for('SkipCounter'),
  WebhookHandler: Symbol.for('WebhookHandler'),
} as const;

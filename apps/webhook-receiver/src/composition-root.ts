import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { ReceiveWebhook, type WebhookPublisher } from '@alma-cache/cache-domain';
import {
  bindClient,
  bindFunctionBasics,
  cachedRotatingSsmSecret,
  createSnsClient,
  createSsmClient,
  SnsWebhookPublisher,
} from '@alma-cache/aws-adapters';
import { Container } from 'inversify';
import { loadConfig, type WebhookReceiverConfig } from './config';
import { metricsSkipCounter, type WebhookCounter } from './skip-counter';
import { createWebhookHandler, type WebhookHandler, type WebhookSecrets } from './webhook-handler';

// The one wiring file of the webhook receiver, top to bottom: what the container provides (TOKENS), then how it is
// built (buildContainer). handlers/receive-webhook.ts only builds the container at module scope, where serverless.yml
// points, and resolves the handler from it.

/** Service identifiers: the one list of what the container provides. */
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

/**
 * SDK settings for the request path: a call that hangs fails fast and is tried once more, so that the handler still
 * answers within Alma's 5 s (a 503, which Alma retries) instead of timing out. Without `throwOnRequestTimeout` the
 * SDK only warns when `requestTimeout` passes and keeps waiting.
 */
export const FAST_FAIL_CLIENT_CONFIG = {
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 1_500, throwOnRequestTimeout: true },
} as const;

/**
 * Wires the receiver. The domain stays decorator-free: its classes are bound with factories (`toResolvedValue`), and
 * everything is a singleton, so a warm container reuses its SDK clients and reads the secrets from SSM once per TTL
 * (and once more when a signature matches neither, so a rotation is picked up at once).
 *
 * @example
 * const handler = buildContainer(process.env).get<WebhookHandler>(TOKENS.WebhookHandler);
 */
export const buildContainer = (env: Readonly<Record<string, string | undefined>>): Container => {
  const container = new Container({ defaultScope: 'Singleton' });

  container.bind<WebhookReceiverConfig>(TOKENS.Config).toConstantValue(loadConfig(env));
  bindFunctionBasics(container, env, 'alma-cache-webhooks', TOKENS);
  // Both clients (SSM, SNS) sit on the request path, so both fail fast.
  bindClient(container, TOKENS.SsmClient, createSsmClient, FAST_FAIL_CLIENT_CONFIG);
  bindClient(container, TOKENS.SnsClient, createSnsClient, FAST_FAIL_CLIENT_CONFIG);
  container.bind<WebhookCounter>(TOKENS.SkipCounter).toResolvedValue((metrics: Metrics) => metricsSkipCounter(metrics), [TOKENS.Metrics]);

  container
    .bind<WebhookSecrets>(TOKENS.WebhookSecret)
    .toResolvedValue(
      (ssm: SSMClient, config: WebhookReceiverConfig) => cachedRotatingSsmSecret(ssm, config.secretName, config.secretCache),
      [TOKENS.SsmClient, TOKENS.Config],
    );
  container
    .bind<WebhookPublisher>(TOKENS.WebhookPublisher)
    .toResolvedValue(
      (sns: SNSClient, config: WebhookReceiverConfig) => new SnsWebhookPublisher(sns, config.topicArns),
      [TOKENS.SnsClient, TOKENS.Config],
    );
  container
    .bind<ReceiveWebhook>(TOKENS.ReceiveWebhook)
    .toResolvedValue((publisher: WebhookPublisher) => new ReceiveWebhook(publisher), [TOKENS.WebhookPublisher]);
  container
    .bind<WebhookHandler>(TOKENS.WebhookHandler)
    .toResolvedValue(
      (receiveWebhook: ReceiveWebhook, secret: WebhookSecrets, counts: WebhookCounter, logger: Logger) =>
        createWebhookHandler({ receiveWebhook, secret, counts, logger }),
      [TOKENS.ReceiveWebhook, TOKENS.WebhookSecret, TOKENS.SkipCounter, TOKENS.Logger],
    );

  return container;
};

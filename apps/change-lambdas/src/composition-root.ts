import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SNSClient } from '@aws-sdk/client-sns';
import { type ChangePublisher, PublishCacheChanges } from '@alma-cache/cache-domain';
import { bindClient, bindFunctionBasics, createSnsClient, SnsChangePublisher } from '@alma-cache/aws-adapters';
import { Container } from 'inversify';
import { type ChangeLambdasConfig, loadConfig } from './config';
import { createStreamHandler } from './stream-handler';

// The one wiring file of change-lambdas, top to bottom: what the container provides (TOKENS), how it is built
// (buildContainer), and the handler resolved from it (streamHandlerOf). handlers/publish-changes.ts only builds the
// container at module scope, where serverless.yml points.

/** Service identifiers: the one list of what the container provides. */
export const TOKENS = {
  Config: Symbol.for('ChangeLambdasConfig'),
  Logger: Symbol.for('Logger'),
  Metrics: Symbol.for('Metrics'),
  SnsClient: Symbol.for('SNSClient'),
  ChangePublisher: Symbol.for('ChangePublisher'),
  PublishCacheChanges: Symbol.for('PublishCacheChanges'),
} as const;

/**
 * Wires the stream function. The domain stays decorator-free: its classes are bound with factories
 * (`toResolvedValue`), and everything is a singleton so the SNS client and its connections are reused across
 * invocations of a warm container.
 *
 * @example
 * const publishChanges = buildContainer(process.env).get<PublishCacheChanges>(TOKENS.PublishCacheChanges);
 */
export const buildContainer = (env: Readonly<Record<string, string | undefined>>): Container => {
  const container = new Container({ defaultScope: 'Singleton' });

  container.bind<ChangeLambdasConfig>(TOKENS.Config).toConstantValue(loadConfig(env));
  bindFunctionBasics(container, env, 'alma-cache-changes', TOKENS);
  bindClient(container, TOKENS.SnsClient, createSnsClient);
  container
    .bind<ChangePublisher>(TOKENS.ChangePublisher)
    .toResolvedValue(
      (client: SNSClient, config: ChangeLambdasConfig) => new SnsChangePublisher(client, config.changeTopicArn),
      [TOKENS.SnsClient, TOKENS.Config],
    );
  container
    .bind<PublishCacheChanges>(TOKENS.PublishCacheChanges)
    .toResolvedValue((publisher: ChangePublisher) => new PublishCacheChanges(publisher), [TOKENS.ChangePublisher]);

  return container;
};

/**
 * The stream handler, resolved from a container {@link buildContainer} built.
 *
 * @example
 * export const handler = streamHandlerOf(buildContainer(process.env));
 */
export const streamHandlerOf = (container: Container): ReturnType<typeof createStreamHandler> =>
  createStreamHandler(
    container.get<PublishCacheChanges>(TOKENS.PublishCacheChanges),
    container.get<Logger>(TOKENS.Logger),
    container.get<Metrics>(TOKENS.Metrics),
  );

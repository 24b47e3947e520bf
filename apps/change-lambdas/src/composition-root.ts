import type { SNSClient } from '@aws-sdk/client-sns';
import { type ChangePublisher, PublishCacheChanges } from '@alma-cache/cache-domain';
import { bindFunctionBasics, SnsChangePublisher } from '@alma-cache/aws-adapters';
import { Container } from 'inversify';
import { type ChangeLambdasConfig, loadConfig } from './config';
import { TOKENS } from './tokens';

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

import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { PublishCacheChanges } from '@alma-cache/cache-domain';
import { buildContainer } from './composition-root';
import { createStreamHandler } from './stream-handler';
import { TOKENS } from './tokens';

// Built once per Lambda container, at module scope: cold start pays for configuration and clients, warm calls don't.
export const container = buildContainer(process.env);

/** The stream handler, resolved from the container. */
export const streamHandler = () =>
  createStreamHandler(
    container.get<PublishCacheChanges>(TOKENS.PublishCacheChanges),
    container.get<Logger>(TOKENS.Logger),
    container.get<Metrics>(TOKENS.Metrics),
  );

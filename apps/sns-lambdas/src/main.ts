import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { FailureParking, MessageDelay } from '@alma-cache/aws-adapters';
import { buildContainer } from './composition-root';
import { createItemEventHandler, type ItemEventUseCase } from './sqs-handler';
import { TOKENS } from './tokens';

// Built once per Lambda container, at module scope: cold start pays for configuration and clients, warm calls don't.
export const container = buildContainer(process.env);

/** The queue-path handler for one use case (sqs-handler.ts): its queue's batches, refusals to its own DLQ. */
export const itemEventHandlerFor = (token: symbol) =>
  createItemEventHandler(container.get<ItemEventUseCase>(token), container.get<Logger>(TOKENS.Logger), container.get<Metrics>(TOKENS.Metrics), {
    deadLetterQueue: container.get<FailureParking>(TOKENS.DeadLetterQueue),
    delay: container.get<MessageDelay>(TOKENS.MessageDelay),
  });

import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SNSEvent } from 'aws-lambda';
import { InvalidEventError, type SyncOutcome } from '@alma-cache/cache-domain';

/** Any of the four item use cases. */
export interface ItemUseCase {
  execute(message: string): Promise<SyncOutcome>;
}

/** Best effort, for log lines about messages that failed before the domain could name their event. */
const peekAlmaEventId = (message: string): string | undefined => {
  try {
    const id = (JSON.parse(message) as { id?: unknown }).id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
};

/**
 * A thin SNS handler: each record's message (the raw Alma webhook body) goes to the use case.
 *
 * A failure is logged with the Alma event id and the SNS message id and rethrown: SNS invokes asynchronously, so
 * Lambda retries it and then sends it, with the error as its reason, to the failure queue (the on-failure
 * destination). Invalid events are rejected before any write, so those retries are harmless.
 *
 * @example
 * export const handler = createSnsHandler(container.get(TOKENS.RecordLoan), container.get(TOKENS.Logger));
 */
export const createSnsHandler =
  (useCase: ItemUseCase, logger: Logger) =>
  async (event: SNSEvent, context?: Context): Promise<void> => {
    if (context) logger.addContext(context);
    for (const record of event.Records) {
      const snsMessageId = record.Sns.MessageId;
      try {
        const outcome = await useCase.execute(record.Sns.Message);
        logger.info('Alma event applied', {
          almaEventId: outcome.event.eventId,
          almaEventType: outcome.event.eventType,
          snsMessageId,
          kind: outcome.event.kind,
          itemId: outcome.event.itemId,
          item: outcome.item,
          user: outcome.user,
        });
      } catch (error) {
        const almaEventId = (error instanceof InvalidEventError && error.almaEventId) || peekAlmaEventId(record.Sns.Message);
        if (error instanceof InvalidEventError) {
          logger.error('Alma event rejected: nothing written; it goes to the failure queue', {
            errorType: error.name,
            reason: error.reason,
            almaEventId,
            snsMessageId,
          });
        } else {
          logger.error('Alma event failed: Lambda will retry it, then send it to the failure queue', {
            error: error as Error,
            almaEventId,
            snsMessageId,
          });
        }
        throw error;
      }
    }
  };

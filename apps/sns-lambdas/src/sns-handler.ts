import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, SNSEvent } from 'aws-lambda';
import { InvalidEventError, type SyncOutcome } from '@alma-cache/cache-domain';
import { countEvent, eventOutcomeOf, eventTypeDimension, UNKNOWN_EVENT_TYPE } from './event-metrics';

/** Any of the four item use cases. */
export interface ItemUseCase {
  execute(message: string): Promise<SyncOutcome>;
}

/**
 * The Lambda event is not the one-record SNS notification SNS delivers (a wrong trigger, a hand-made invoke):
 * nothing was applied, and retrying cannot help.
 */
export class InvalidSnsEventError extends Error {
  public constructor(public readonly reason: string) {
    super(`not an SNS notification event: ${reason}`);
    this.name = 'InvalidSnsEventError';
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The one record of an SNS event, checked before anything is applied. Without this, a damaged envelope failed with
 * an unlogged TypeError, an empty or non-SNS one "succeeded" doing nothing or the wrong thing, and a second record
 * that failed after the first was applied left a partial write (SNS always sends exactly one record).
 */
const snsRecordOf = (event: unknown): { Message: string; MessageId?: unknown } => {
  if (!isObject(event)) throw new InvalidSnsEventError('the event is not an object');
  const records = event['Records'];
  if (!Array.isArray(records)) throw new InvalidSnsEventError('"Records" is missing or not an array');
  if (records.length !== 1) throw new InvalidSnsEventError(`SNS delivers exactly one record per invocation; this event has ${records.length}`);
  const [record] = records as unknown[];
  if (!isObject(record)) throw new InvalidSnsEventError('"Records[0]" is not an object');
  const source = record['EventSource'];
  if (source !== 'aws:sns') throw new InvalidSnsEventError(`"Records[0].EventSource" is ${JSON.stringify(source) ?? 'undefined'}, not "aws:sns"`);
  const sns = record['Sns'];
  if (!isObject(sns)) throw new InvalidSnsEventError('"Records[0].Sns" is missing or not an object');
  if (typeof sns['Message'] !== 'string') throw new InvalidSnsEventError('"Records[0].Sns.Message" is missing or not a string');
  return sns as { Message: string; MessageId?: unknown };
};

/**
 * Best effort, for the log line and the metric of a message that failed before the domain could name its event:
 * its Alma event id and event type, read with one parse.
 */
const peekMessage = (message: string): { almaEventId?: string; eventType: string } => {
  try {
    const body = JSON.parse(message) as { id?: unknown; event?: { value?: unknown } } | null;
    const id = body?.id;
    return { ...(typeof id === 'string' ? { almaEventId: id } : {}), eventType: eventTypeDimension(body?.event?.value) };
  } catch {
    return { eventType: UNKNOWN_EVENT_TYPE };
  }
};

/**
 * A thin SNS handler: the record's message (the raw Alma webhook body) goes to the use case. An event that is not
 * one SNS record is refused first (InvalidSnsEventError), logged with its reason.
 *
 * A failure is logged with the Alma event id and the SNS message id and rethrown: SNS invokes asynchronously, so
 * Lambda retries it and then sends it, with the error as its reason, to the failure queue (the on-failure
 * destination). Invalid events are rejected before any write, so those retries are harmless.
 *
 * Every invocation counts its event once into the `Events` metric (see event-metrics.ts), failures included: each
 * failed attempt counts, so one event that ends on the failure queue counts three `failed`.
 *
 * @example
 * export const handler = createSnsHandler(container.get(TOKENS.RecordLoan), container.get(TOKENS.Logger), container.get(TOKENS.Metrics));
 */
export const createSnsHandler =
  (useCase: ItemUseCase, logger: Logger, metrics: Metrics) =>
  async (event: SNSEvent, context?: Context): Promise<void> => {
    if (context) logger.addContext(context);
    let sns: { Message: string; MessageId?: unknown };
    try {
      sns = snsRecordOf(event);
    } catch (error) {
      const { name, reason } = error as InvalidSnsEventError;
      logger.error('SNS event rejected: nothing written; it goes to the failure queue', { errorType: name, reason });
      countEvent(metrics, UNKNOWN_EVENT_TYPE, 'failed');
      throw error;
    }
    const snsMessageId = sns.MessageId;
    try {
      const outcome = await useCase.execute(sns.Message);
      countEvent(metrics, outcome.event.eventType, eventOutcomeOf(outcome));
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
      const peeked = peekMessage(sns.Message);
      const almaEventId = (error instanceof InvalidEventError && error.almaEventId) || peeked.almaEventId;
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
      countEvent(metrics, peeked.eventType, 'failed');
      throw error;
    }
  };

import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, SNSEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type { FailureParking } from '@alma-cache/aws-adapters';
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
 * `requestContext.condition` of a failure-queue record the function wrote itself: the event was refused as invalid
 * and parked at once, not retried. Lambda's own on-failure records say `RetriesExhausted` or `EventAgeExceeded`.
 */
export const REFUSED_CONDITION = 'RefusedAsInvalid';

/**
 * The failure-queue record of a refused event, in the shape of Lambda's on-failure destination record (version,
 * timestamp, requestContext, requestPayload, responseContext, responsePayload), so whatever reads the failure queue
 * (tools/redrive, `npm start`'s demo, an operator's query on `responsePayload.errorType`) reads both alike.
 *
 * @example
 * refusalRecord(snsEvent, new MalformedEventError('"time" is missing'), context);
 * // { version: '1.0', requestContext: { condition: 'RefusedAsInvalid', approximateInvokeCount: 1, … }, requestPayload: snsEvent,
 * //   responsePayload: { errorType: 'MalformedEventError', errorMessage: '"time" is missing', trace: […] }, … }
 */
export const refusalRecord = (event: unknown, error: Error, context: Context | undefined, now: Date = new Date()) => ({
  version: '1.0',
  timestamp: now.toISOString(),
  requestContext: {
    requestId: context?.awsRequestId ?? randomUUID(),
    // Empty without a context (a direct call in a test): redrive then finds the function by the event's topic.
    functionArn: context?.invokedFunctionArn ?? '',
    condition: REFUSED_CONDITION,
    // The attempt that refused it: validation runs before any I/O, so the first, unless parking failed on an earlier
    // one (Lambda's context does not say which attempt it is).
    approximateInvokeCount: 1,
  },
  requestPayload: event,
  // 'Handled': the function returned; Lambda's records say 'Unhandled' for an error it threw.
  responseContext: { statusCode: 200, executedVersion: context?.functionVersion ?? '$LATEST', functionError: 'Handled' },
  responsePayload: { errorType: error.name, errorMessage: error.message, trace: (error.stack ?? '').split('\n') },
});

/**
 * A thin SNS handler: the record's message (the raw Alma webhook body) goes to the use case. An event that is not
 * one SNS record is refused first (InvalidSnsEventError), logged with its reason.
 *
 * An event refused as invalid (InvalidSnsEventError, or the domain's InvalidEventError family: malformed, outside
 * the replay horizon, a type this function does not handle) is parked on the failure queue at once, as a record
 * shaped like Lambda's on-failure record with `requestContext.condition` {@link REFUSED_CONDITION}, and the
 * invocation succeeds: retrying cannot help, so Lambda does not retry it. Nothing was written (refusals come before
 * any write). If the failure queue does not take it, the refusal is rethrown, and Lambda's retries and on-failure
 * destination park it as before: it is never lost.
 *
 * Any other failure is logged with the Alma event id and the SNS message id and rethrown: SNS invokes
 * asynchronously, so Lambda retries it and then sends it, with the error as its reason, to the failure queue (the
 * on-failure destination).
 *
 * Every invocation counts its event once into the `Events` metric (see event-metrics.ts): a refused event counts one
 * `refused`; each attempt that throws counts `failed`, so one event that ends on the failure queue after Lambda's
 * retries counts three.
 *
 * @example
 * export const handler = createSnsHandler(container.get(TOKENS.RecordLoan), container.get(TOKENS.Logger), container.get(TOKENS.Metrics), container.get(TOKENS.FailureParking));
 */
export const createSnsHandler =
  (useCase: ItemUseCase, logger: Logger, metrics: Metrics, parking: FailureParking) =>
  async (event: SNSEvent, context?: Context): Promise<void> => {
    if (context) logger.addContext(context);

    /** Parks a refused event and returns, or rethrows `error` when the failure queue did not take it. */
    const refuse = async (
      what: 'SNS event' | 'Alma event',
      error: InvalidEventError | InvalidSnsEventError,
      eventType: string,
      ids: Record<string, unknown> = {},
    ) => {
      const fields = { errorType: error.name, reason: error.reason, ...ids };
      let parkedMessageId: string;
      try {
        parkedMessageId = await parking.park(JSON.stringify(refusalRecord(event, error, context)), { errorType: error.name, reason: error.reason });
      } catch (parkError) {
        logger.error(`${what} rejected: nothing written; it could not be parked, so Lambda will retry it, then send it to the failure queue`, {
          ...fields,
          parkError: parkError as Error,
        });
        countEvent(metrics, eventType, 'failed');
        throw error;
      }
      logger.error(`${what} rejected: nothing written; parked on the failure queue at once, not retried`, { ...fields, parkedMessageId });
      countEvent(metrics, eventType, 'refused');
    };

    let sns: { Message: string; MessageId?: unknown };
    try {
      sns = snsRecordOf(event);
    } catch (error) {
      if (!(error instanceof InvalidSnsEventError)) throw error;
      return refuse('SNS event', error, UNKNOWN_EVENT_TYPE);
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
      if (error instanceof InvalidEventError) return refuse('Alma event', error, peeked.eventType, { almaEventId, snsMessageId });
      logger.error('Alma event failed: Lambda will retry it, then send it to the failure queue', {
        error: error as Error,
        almaEventId,
        snsMessageId,
      });
      countEvent(metrics, peeked.eventType, 'failed');
      throw error;
    }
  };

import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { createSqsBatchHandler, type FailureParking, type MessageDelay, type SqsRecordProcessor } from '@alma-cache/aws-adapters';
import { InvalidEventError, type SyncOutcome } from '@alma-cache/cache-domain';
import { countEvent, eventOutcomeOf, eventTypeDimension, UNKNOWN_EVENT_TYPE } from './event-metrics';

/** Any of the four item use cases. */
export interface ItemEventUseCase {
  execute(message: string): Promise<SyncOutcome>;
}

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
 * One queue message → the use case. The topics deliver to the queue raw (the message body is the Alma webhook body
 * the receiver published, nothing around it), so the body goes to the use case as it is; one line is logged per
 * applied event with what became of it, and the event counts once into `Events`. The line names no patron, record or
 * event id (the patron's key and the record id are personal data; see the README's Security): the event type, what
 * became of the item and the patron's row, the metric outcome and the receive count.
 *
 * @example
 * const process = itemEventProcessor(container.get(TOKENS.RecordLoan), logger, metrics);
 */
export const itemEventProcessor =
  (useCase: ItemEventUseCase, logger: Logger, metrics: Metrics): SqsRecordProcessor =>
  async (record) => {
    const outcome = await useCase.execute(record.body);
    const counted = eventOutcomeOf(outcome);
    countEvent(metrics, outcome.event.eventType, counted);
    logger.info('Alma event applied', {
      almaEventType: outcome.event.eventType,
      kind: outcome.event.kind,
      outcome: counted,
      item: outcome.item,
      user: outcome.user,
      receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 1),
    });
  };

/**
 * The receives an event's message gets before SQS moves it to the DLQ: the queues' `maxReceiveCount` (serverless.yml
 * sets the same number; the template spec checks they agree).
 */
export const EVENT_MAX_RECEIVE_COUNT = 12;

/** The longest an event waits between two receives. */
const MAX_BACKOFF_SECONDS = 6 * 3600;

/**
 * How long a message that failed (not refused) stays hidden before its next receive: 1 minute after the first,
 * doubling, at most 6 hours. Over {@link EVENT_MAX_RECEIVE_COUNT} receives that spans about 20.5 hours, so a DynamoDB
 * or Lambda outage of that length only delays events (Lambda's asynchronous queue gave up after 6 hours); a transient
 * failure still comes back within a minute.
 *
 * @example
 * eventBackoffSeconds(1); // 60
 * eventBackoffSeconds(12); // 21600
 */
export const eventBackoffSeconds = (receiveCount: number): number =>
  Math.min(MAX_BACKOFF_SECONDS, 60 * 2 ** Math.max(0, Math.min(receiveCount, 30) - 1));

/**
 * A cache-update function's handler: its queue (subscribed raw to its topics) read in batches through the stack's one
 * SQS batch handler (aws-adapters `createSqsBatchHandler`), with partial batch responses.
 *
 * An event refused as invalid (the domain's InvalidEventError family: malformed, outside the replay horizon, a type
 * this function does not handle) is sent at once to `deadLetterQueue`, the DLQ of the function's queue, with its body
 * unchanged and its reason as message attributes (RefusedErrorType, RefusedReason), and counts `refused` once: nothing
 * was written (refusals come before any write). Any other failure (DynamoDB unreachable, throttled, a timeout) is
 * reported as a batch item failure and counts `failed` per receive: the message comes back after the queue's
 * visibility timeout, or later as {@link eventBackoffSeconds} says (with `queue.delay`), and SQS moves it to the DLQ after
 * its last receive. A long outage only delays events, and each message's own Alma time still orders it against the
 * others.
 *
 * @example
 * export const handler = createItemEventHandler(container.get(TOKENS.RecordLoan), logger, metrics, { deadLetterQueue, delay });
 */
export const createItemEventHandler = (
  useCase: ItemEventUseCase,
  logger: Logger,
  metrics: Metrics,
  queue: { deadLetterQueue?: FailureParking; delay?: MessageDelay } = {},
) =>
  createSqsBatchHandler(itemEventProcessor(useCase, logger, metrics), {
    logger,
    metrics,
    deadLetterQueue: queue.deadLetterQueue,
    delay: queue.delay,
    backoffSeconds: eventBackoffSeconds,
    retriedMessage: 'Alma event failed: the message will be received again after its visibility timeout, and goes to the DLQ after its last receive',
    onFailure: (record, error, outcome) => {
      const peeked = peekMessage(record.body);
      countEvent(metrics, peeked.eventType, outcome);
      const almaEventId = (error instanceof InvalidEventError && error.almaEventId) || peeked.almaEventId;
      return almaEventId === undefined ? {} : { almaEventId };
    },
  });

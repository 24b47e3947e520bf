import type { Logger } from '@aws-lambda-powertools/logger';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { isSqsText, type MessageSender } from '@alma-cache/aws-adapters';
import { isJsonObject } from '@alma-cache/cache-domain';
import type { Context, SNSEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';

// For one release only: the upgrade from the SNS path (issue 19). The next release deletes this file, its binding in
// composition-root.ts, SOURCE_QUEUE_URL and the ForwardUpgradeEvents grant, together with the failure queue.

/** The log line of a forwarded event: counts only, no topic, patron, record or event id. */
export const SNS_EVENT_FORWARDED = 'SNS event forwarded to the function queue (upgrade from the SNS path)';

/** SQS takes at most 10 message attributes per message. */
const MAX_SQS_ATTRIBUTES = 10;

/**
 * A name SQS accepts for a message attribute: letters, digits, `_`, `-` and `.`, at most 256, no leading, trailing or
 * doubled `.`, not `AWS.`/`Amazon.` (reserved).
 */
const SQS_ATTRIBUTE_NAME = /^(?![.])(?!.*[.][.])(?!.*[.]$)(?!(?:aws|amazon)[.])[A-Za-z0-9_.-]{1,256}$/i;

/** A number SQS accepts: at most 38 significant digits, plain notation. */
const SQS_NUMBER = /^-?\d+(?:\.\d+)?$/;

/**
 * The Lambda event is SNS-shaped but cannot be forwarded: it mixes SNS records with others, or an SNS record has no
 * string `Sns.Message`. SNS itself never sends such an event (it delivers exactly one complete record per
 * invocation), so it is a hand-made invoke. The reason names the record's position only, never its content.
 */
export class SnsUpgradeEventError extends Error {
  public constructor(public readonly reason: string) {
    super(`SNS-shaped event not forwarded: ${reason}`);
    this.name = 'SnsUpgradeEventError';
  }
}

/** One SNS message as it goes to the function's queue. */
export interface ForwardedMessage {
  /** `Sns.Message`, unchanged: the Alma webhook body, as raw delivery puts it on the queue. */
  readonly body: string;
  /** The message's String and Number attributes, in SendMessage's shape. */
  readonly attributes: Record<string, MessageAttributeValue>;
}

/** A record that claims to be SNS's: its `EventSource` says so, or it carries an `Sns` envelope. */
const claimsSns = (record: unknown): boolean => isJsonObject(record) && (record['EventSource'] === 'aws:sns' || 'Sns' in record);

/**
 * The SNS message attributes (`{ name: { Type, Value } }`) SQS would take as they are, as SQS message attributes: what
 * raw delivery turns them into, so a forwarded message reads like one the subscription delivered (the webhook
 * receiver publishes `alma_event_type` and `alma_event_id`). Only `String` and `Number` with a value SQS accepts and a
 * name SQS accepts, at most 10; anything else (Binary, String.Array, custom types, a value SQS would refuse) is left
 * out rather than let one attribute make SQS refuse the whole message: the body is what the function reads.
 */
const sqsAttributesOf = (attributes: unknown): Record<string, MessageAttributeValue> => {
  if (!isJsonObject(attributes)) return {};
  const kept: [string, MessageAttributeValue][] = [];
  for (const [name, attribute] of Object.entries(attributes)) {
    if (kept.length === MAX_SQS_ATTRIBUTES) break;
    if (!SQS_ATTRIBUTE_NAME.test(name) || !isJsonObject(attribute)) continue;
    const { Type: type, Value: value } = attribute;
    if (typeof value !== 'string') continue;
    if (type === 'String' && isSqsText(value)) kept.push([name, { DataType: 'String', StringValue: value }]);
    if (type === 'Number' && SQS_NUMBER.test(value) && value.replace(/[-.]/g, '').length <= 38)
      kept.push([name, { DataType: 'Number', StringValue: value }]);
  }
  return Object.fromEntries(kept);
};

/** One SNS record's message, checked: any other shape is an error, never a silent skip. */
const forwardedMessageOf = (record: Record<string, unknown>, index: number): ForwardedMessage => {
  if (record['EventSource'] !== 'aws:sns')
    throw new SnsUpgradeEventError(`Records[${index}] has an "Sns" envelope but its EventSource is not "aws:sns"`);
  const sns = record['Sns'];
  if (!isJsonObject(sns)) throw new SnsUpgradeEventError(`Records[${index}].Sns is missing or not an object`);
  const message = sns['Message'];
  if (typeof message !== 'string' || message === '')
    throw new SnsUpgradeEventError(`Records[${index}].Sns.Message is missing, empty or not a string`);
  return { body: message, attributes: sqsAttributesOf(sns['MessageAttributes']) };
};

/**
 * The messages of an SNS event, checked, or undefined when the event is not SNS-shaped (no record claims to be SNS's):
 * an ordinary SQS batch, or anything else, which the queue handler judges as it always has.
 *
 * @example
 * snsMessagesOf(snsEvent(topicArn, body)); // [{ body, attributes: {} }]
 * snsMessagesOf(sqsEvent([record])); // undefined
 * @throws SnsUpgradeEventError when the event mixes SNS records with others, or an SNS record is malformed
 */
export const snsMessagesOf = (event: unknown): ForwardedMessage[] | undefined => {
  if (!isJsonObject(event) || !Array.isArray(event['Records'])) return undefined;
  const records = event['Records'] as unknown[];
  const snsRecords = records.filter(claimsSns).length;
  if (snsRecords === 0) return undefined;
  if (snsRecords !== records.length)
    throw new SnsUpgradeEventError(`${snsRecords} of its ${records.length} records are SNS records, the others not: an event holds one kind`);
  return records.map((record, index) => forwardedMessageOf(record as Record<string, unknown>, index));
};

/** A cache-update function's handler: its queue's batches, and, for one release, an SNS event forwarded to that queue. */
export interface ItemEventHandler {
  (event: SQSEvent, context?: Context): Promise<SQSBatchResponse>;
  (event: SNSEvent, context?: Context): Promise<void>;
}

/**
 * The queue handler, plus the upgrade from the SNS path. A stage deployed from a release before issue 19 had SNS
 * invoke the functions asynchronously. When it is upgraded, an SNS event Lambda still holds for an asynchronous retry,
 * or one SNS hands the function during the stack update, reaches the new code as an SNS event. The queue handler would
 * find no SQS record in it and answer a batch response, which an asynchronous invocation counts as success, and the
 * event (no on-failure destination any more) would be lost. So an SNS event is forwarded instead: each record's
 * `Sns.Message`, unchanged, to the function's own queue (`ownQueue`, SOURCE_QUEUE_URL) with its String and Number
 * attributes, as the raw subscription would have put it there; the function then reads it from the queue like any
 * other event. One line per forwarded event ({@link SNS_EVENT_FORWARDED}) gives the count of records, nothing else.
 *
 * If any send fails the invocation throws, so Lambda's asynchronous retries (2, then the event is dropped) apply and
 * the function's `-errors` alarm fires; a record already forwarded is sent again on the retry, a duplicate the
 * function applies harmlessly. An SNS event never gets a batch response.
 *
 * A malformed SNS-shaped event (mixed kinds, a record without a string `Sns.Message`) throws SnsUpgradeEventError
 * before anything is sent. SNS never sends one, so it is a hand-made invoke: throwing is logged at ERROR, fires the
 * `-errors` alarm, answers a synchronous caller with the reason, and an asynchronous one is retried twice and dropped
 * by Lambda. Dropping it silently is what this exists to stop; parking it on the DLQ instead would put something that
 * is not an Alma event where `redrive` replays to the queue.
 *
 * The next release removes this (and SOURCE_QUEUE_URL, the ForwardUpgradeEvents grant) with the failure queue.
 *
 * @example
 * export const handler = withSnsUpgradeForwarding(createItemEventHandler(useCase, logger, metrics, queue), ownQueue, logger);
 */
export const withSnsUpgradeForwarding = (
  queueHandler: (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>,
  ownQueue: MessageSender,
  logger: Logger,
): ItemEventHandler =>
  (async (event: SQSEvent | SNSEvent, context?: Context): Promise<SQSBatchResponse | void> => {
    let messages: ForwardedMessage[] | undefined;
    try {
      messages = snsMessagesOf(event);
    } catch (error) {
      if (context) logger.addContext(context);
      logger.error('SNS-shaped event refused: nothing forwarded, nothing written; the invocation fails', {
        errorType: (error as Error).name,
        reason: (error as SnsUpgradeEventError).reason,
      });
      throw error;
    }
    if (messages === undefined) return queueHandler(event as SQSEvent, context);

    if (context) logger.addContext(context);
    const results = await Promise.allSettled(messages.map((message) => ownQueue.send(message.body, message.attributes)));
    const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
    if (failures.length > 0) {
      logger.error('SNS event not forwarded to the function queue: the invocation fails, so Lambda retries the event', {
        records: messages.length,
        failed: failures.length,
        error: failures[0] as Error,
      });
      throw new Error(`could not forward ${failures.length} of ${messages.length} SNS record(s) to the function queue`, { cause: failures[0] });
    }
    logger.info(SNS_EVENT_FORWARDED, { records: messages.length });
  }) as ItemEventHandler;

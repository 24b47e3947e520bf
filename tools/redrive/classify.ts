import { PARKED_REASON_ATTRIBUTES } from '@alma-cache/aws-adapters';
import { AlmaEventType, parseItemRefreshMessage, parseUserRefreshMessage, WEBHOOK_ROUTING_TABLE } from '@alma-cache/cache-domain';
import { EVENT_FUNCTIONS, type EventFunction, eventFunctionOfDlq, refreshKindOfDlq, type RefreshQueueKind } from './queue-names';

/**
 * What a parked message is, by its shape: on a cache-update DLQ an `alma-event` (the raw webhook body); on the
 * failure queue of the SNS path (kept one release) a `lambda-failure` or `sns-redrive` record; on a refresh DLQ a
 * `refresh-request`; on the change failure queue a `stream-batch`.
 */
export type ParkedKind = 'alma-event' | 'lambda-failure' | 'sns-redrive' | 'refresh-request' | 'stream-batch' | 'unknown';

/** An SQS message attribute as SendMessage takes it (and ReceiveMessage returns it). */
export type MessageAttribute = { DataType?: string; StringValue?: string; BinaryValue?: Uint8Array };

/** The SNS message inside a failure-queue record: its topic, the Alma webhook body and its attributes in SQS's shape. */
export interface SnsOriginal {
  topicArn: string;
  message: string;
  attributes: Record<string, MessageAttribute>;
  /** The Alma event type in the message (`event.value`), when it has one. */
  almaEvent?: string;
}

/** One message of a DLQ or failure queue, classified. */
export interface ParkedMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  /** SQS's ApproximateReceiveCount: the redrives' receives plus ours. */
  receiveCount: number;
  sentAt?: string;
  kind: ParkedKind;
  /** The reason it failed, one line; for counts, {@link ParkedMessage.reasonKey} groups them. */
  reason: string;
  reasonKey: string;
  /** Lambda's invocation count for an on-failure record. */
  attempts?: number;
  /** The function that failed (on-failure records name it). */
  functionArn?: string;
  /** What it is about, for people: event, record and patron. */
  subject: string;
  sns?: SnsOriginal;
  /** The SQS message attributes it carries, sent along when it goes back to a queue. */
  messageAttributes?: Record<string, MessageAttribute>;
  refresh?: { queueKind: RefreshQueueKind };
  /** On a cache-update DLQ: the function whose queue the event left (the body is the raw Alma webhook body). */
  event?: { fn: EventFunction; almaEvent?: string };
  /** Why it can be replayed from neither source nor handler, when that is so. */
  notReplayable?: string;
  /** Why its function would refuse it now (`list` only: malformed, past the replay horizon), so a replay skips it. */
  refusedNow?: string;
}

type Json = Record<string, unknown>;
const asObject = (value: unknown): Json | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/**
 * The SNS-to-Lambda `MessageAttributes` shape (`{Type, Value}`) in SQS's shape (`{DataType, StringValue}`): what a
 * raw subscription delivers to the function's queue.
 */
const publishAttributes = (attributes: unknown): SnsOriginal['attributes'] =>
  Object.fromEntries(
    Object.entries(asObject(attributes) ?? {}).flatMap(([name, raw]) => {
      const attribute = asObject(raw);
      const type = attribute?.['Type'];
      const value = attribute?.['Value'];
      if (typeof type !== 'string' || typeof value !== 'string') return [];
      return [[name, type === 'Binary' ? { DataType: type, BinaryValue: Buffer.from(value, 'base64') } : { DataType: type, StringValue: value }]];
    }),
  );

/**
 * "LOAN_CREATED loan event of 2026-12-06T07:31:00Z", from an Alma webhook body, as far as it can be read: the event
 * type, the record's kind and the event's time, never the patron or record id (nor the body of one that is no JSON),
 * since `list` output is pasted into tickets. The function's log lines name the event by the SQS message id.
 *
 * @example
 * describeWebhook('{"event":{"value":"LOAN_RETURNED"},"time":"2026-12-06T07:31:00Z","item_loan":{"loan_id":"73915"}}');
 * // { subject: 'LOAN_RETURNED loan event of 2026-12-06T07:31:00Z', almaEvent: 'LOAN_RETURNED' }
 */
export const describeWebhook = (message: string): { subject: string; almaEvent?: string } => {
  const webhook = asObject(parseJson(message));
  if (!webhook) return { subject: `not JSON (${message.length} characters)` };
  const almaEvent = asObject(webhook['event'])?.['value'];
  const record = asObject(webhook['item_loan']) ? 'loan event' : asObject(webhook['user_request']) ? 'request event' : 'event without a record';
  const time = typeof webhook['time'] === 'string' ? `of ${webhook['time'].slice(0, 40)}` : 'without a time';
  const subject = [typeof almaEvent === 'string' ? almaEvent.slice(0, 40) : 'no event.value', record, time].join(' ');
  return { subject, almaEvent: typeof almaEvent === 'string' ? almaEvent : undefined };
};

/** The SNS message inside a Lambda SNS event, when the event is exactly the shape SNS sends. */
const snsFromEvent = (event: unknown): SnsOriginal | undefined => {
  const records = asObject(event)?.['Records'];
  const sns = Array.isArray(records) && records.length === 1 ? asObject(asObject(records[0])?.['Sns']) : undefined;
  const topicArn = sns?.['TopicArn'];
  const message = sns?.['Message'];
  if (typeof topicArn !== 'string' || typeof message !== 'string') return undefined;
  return { topicArn, message, attributes: publishAttributes(sns?.['MessageAttributes']), almaEvent: describeWebhook(message).almaEvent };
};

/** A raw SNS notification (what an SNS subscription's redrive policy parked): its topic, message and attributes. */
const snsFromEnvelope = (envelope: Json): SnsOriginal => {
  const message = String(envelope['Message']);
  return {
    topicArn: String(envelope['TopicArn']),
    message,
    attributes: publishAttributes(envelope['MessageAttributes']),
    almaEvent: describeWebhook(message).almaEvent,
  };
};

const REFRESH_WHAT: Record<RefreshQueueKind, string> = {
  users: 'patron refresh',
  loans: 'loan refresh',
  requests: 'request refresh',
  fees: 'fee refresh',
};

const describeRefresh = (body: string, kind: RefreshQueueKind): { subject: string; malformed?: string } => {
  try {
    if (kind === 'users') return { subject: `${REFRESH_WHAT[kind]} of ${parseUserRefreshMessage(body)}` };
    const itemKind = ({ loans: 'loan', requests: 'request', fees: 'fee' } as const)[kind];
    const request = parseItemRefreshMessage(body, itemKind);
    return { subject: `${REFRESH_WHAT[kind]} ${request.itemId} of ${request.userPrimaryId}` };
  } catch (error) {
    return { subject: `${REFRESH_WHAT[kind]}: ${body.slice(0, 60)}`, malformed: (error as Error).message };
  }
};

/** Where a message stands before classification: its SQS fields. */
export interface ReceivedMessage {
  MessageId?: string;
  ReceiptHandle?: string;
  Body?: string;
  Attributes?: Partial<Record<string, string>>;
  MessageAttributes?: Record<string, MessageAttribute>;
}

/** The reason a function gave when it sent a message to its DLQ at once (aws-adapters sqs-batch-handler.ts), if it did. */
const refusalAttributes = (message: ReceivedMessage): { errorType: string; reason: string } | undefined => {
  const errorType = message.MessageAttributes?.[PARKED_REASON_ATTRIBUTES.errorType]?.StringValue;
  return errorType ? { errorType, reason: message.MessageAttributes?.[PARKED_REASON_ATTRIBUTES.reason]?.StringValue ?? '' } : undefined;
};

/**
 * Classifies one message of a DLQ or failure queue by its shape and the queue's name:
 * - on a cache-update DLQ (`…-loan-updated-dlq`, …): the raw Alma webhook body the function's queue held, with the
 *   reason the function gave when it refused it at once (`RefusedErrorType`/`RefusedReason`), else its receives;
 * - on the failure queue of the SNS path (kept one release after the upgrade to queues): a Lambda on-failure record
 *   of a cache-update function, then SNS-triggered: the original SNS message, the error and the attempts;
 * - a stream on-failure record (`DDBStreamBatchInfo`): the shard and sequence range, which cannot be replayed from
 *   the message alone (it holds no records);
 * - a raw SNS notification parked by a subscription's redrive policy (SNS could not invoke the function at all);
 * - a refresh DLQ message: the patron or record it asks for (a malformed one is said so, from the domain's parser).
 */
export const classifyMessage = (message: ReceivedMessage, queueName: string): ParkedMessage => {
  const body = message.Body ?? '';
  const base = {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body,
    receiveCount: Number(message.Attributes?.['ApproximateReceiveCount'] ?? 0),
    sentAt: message.Attributes?.['SentTimestamp'] ? new Date(Number(message.Attributes['SentTimestamp'])).toISOString() : undefined,
    messageAttributes: message.MessageAttributes && Object.keys(message.MessageAttributes).length > 0 ? message.MessageAttributes : undefined,
  };
  const parsed = asObject(parseJson(body));
  const refreshKind = refreshKindOfDlq(queueName);
  const eventFn = eventFunctionOfDlq(queueName);

  if (eventFn) {
    const { subject, almaEvent } = describeWebhook(body);
    const refused = refusalAttributes(message);
    return {
      ...base,
      kind: 'alma-event',
      reason: refused
        ? `${refused.errorType}: ${refused.reason} (refused at once, not received again)`
        : `failed ${base.receiveCount} receives (ApproximateReceiveCount, this read included), then SQS moved it here; ${eventFn}'s log names each failure by this message id`,
      reasonKey: refused?.errorType ?? `${eventFn} failed its receives`,
      subject,
      event: { fn: eventFn, almaEvent },
    };
  }

  const context = asObject(parsed?.['requestContext']);
  const streamBatch = asObject(parsed?.['DDBStreamBatchInfo']);
  if (context && streamBatch) {
    const shard = String(streamBatch['shardId'] ?? '?');
    const range = `${String(streamBatch['startSequenceNumber'] ?? '?')}…${String(streamBatch['endSequenceNumber'] ?? '?')}`;
    const stream = String(streamBatch['streamArn'] ?? '?').replace(/^.*:table\//, '');
    return {
      ...base,
      kind: 'stream-batch',
      reason: `${String(context['condition'] ?? 'failed')}: ${String(streamBatch['batchSize'] ?? '?')} record(s) of ${stream}, shard ${shard}, sequence ${range}`,
      reasonKey: `stream batch ${String(context['condition'] ?? 'failed')}`,
      attempts: Number(context['approximateInvokeCount'] ?? 0) || undefined,
      functionArn: typeof context['functionArn'] === 'string' ? context['functionArn'] : undefined,
      subject: `stream batch ${shard} ${range}`,
      notReplayable: 'a stream on-failure record names the shard and sequence range, not the records: read them from the stream (kept 24 h)',
    };
  }
  if (context && parsed && 'requestPayload' in parsed) {
    const response = asObject(parsed['responsePayload']);
    const errorType = typeof response?.['errorType'] === 'string' ? response['errorType'] : 'UnknownError';
    const errorMessage = typeof response?.['errorMessage'] === 'string' ? response['errorMessage'] : String(context['condition'] ?? '');
    const sns = snsFromEvent(parsed['requestPayload']);
    return {
      ...base,
      kind: 'lambda-failure',
      reason: `${errorType}: ${errorMessage}`,
      reasonKey: errorType,
      attempts: Number(context['approximateInvokeCount'] ?? 0) || undefined,
      functionArn: typeof context['functionArn'] === 'string' ? context['functionArn'] : undefined,
      subject: sns ? describeWebhook(sns.message).subject : 'not an SNS event',
      sns,
    };
  }
  if (parsed && parsed['Type'] === 'Notification' && typeof parsed['TopicArn'] === 'string' && typeof parsed['Message'] === 'string') {
    const sns = snsFromEnvelope(parsed);
    const code = message.MessageAttributes?.['ErrorCode']?.StringValue;
    const text = message.MessageAttributes?.['ErrorMessage']?.StringValue;
    return {
      ...base,
      kind: 'sns-redrive',
      reason: code || text ? `${code ?? 'SnsDeliveryError'}: ${text ?? ''}` : 'SNS could not invoke the subscribed function',
      reasonKey: code ?? 'SNS delivery failed',
      subject: describeWebhook(sns.message).subject,
      sns,
    };
  }
  if (refreshKind) {
    const refresh = describeRefresh(body, refreshKind);
    const refused = refusalAttributes(message);
    const refusedType = refused?.errorType;
    return {
      ...base,
      kind: 'refresh-request',
      reason: refused
        ? `${refused.errorType}: ${refused.reason} (refused at once, not received again)`
        : refresh.malformed
          ? `MalformedRefreshMessageError: ${refresh.malformed}`
          : `the function failed it on each of ${base.receiveCount || 'its'} receives and SQS moved it here; its log names the reason by this message id`,
      reasonKey: refusedType ?? (refresh.malformed ? 'MalformedRefreshMessageError' : `${REFRESH_WHAT[refreshKind]} failed 3 times`),
      subject: refresh.subject,
      refresh: { queueKind: refreshKind },
    };
  }
  return {
    ...base,
    kind: 'unknown',
    reason: 'not an Alma event on a cache-update DLQ, a Lambda on-failure record, an SNS notification or a refresh message',
    reasonKey: 'unknown shape',
    subject: body.slice(0, 60),
    notReplayable: 'its shape says neither where it came from nor which function takes it',
  };
};

/** The sns-lambdas function subscribed to each topic (apps/sns-lambdas/serverless.yml). */
export const SNS_FUNCTION_OF_TOPIC: Record<AlmaEventType, EventFunction> = {
  [AlmaEventType.LOAN_CREATED]: 'loan-updated',
  [AlmaEventType.LOAN_RENEWED]: 'loan-updated',
  [AlmaEventType.LOAN_DUE_DATE]: 'loan-updated',
  [AlmaEventType.LOAN_RETURNED]: 'loan-returned',
  [AlmaEventType.REQUEST_CREATED]: 'request-updated',
  [AlmaEventType.REQUEST_PLACED_ON_SHELF]: 'request-updated',
  [AlmaEventType.REQUEST_CANCELED]: 'request-closed',
  [AlmaEventType.REQUEST_CLOSED]: 'request-closed',
};

/** The refresh-lambdas function consuming each refresh queue (apps/refresh-lambdas/serverless.yml). */
export const REFRESH_FUNCTION_OF_QUEUE: Record<RefreshQueueKind, string> = {
  users: 'update-user',
  loans: 'update-loan',
  requests: 'update-request',
  fees: 'update-fee',
};

/**
 * The short name (`loan-updated`, `update-fee`) and service (`alma-cache-sns`, `alma-cache-refresh`) of the function
 * that takes a message: for a cache-update or refresh DLQ, the queue's; named by an on-failure record; for a raw SNS
 * notification, the function of the topic its Alma event is routed to (the webhook receiver's table), else of the
 * topic's name.
 */
export const functionFor = (message: ParkedMessage): { service: string; name: string } | undefined => {
  if (message.event) return { service: 'alma-cache-sns', name: message.event.fn };
  const fromArn = message.functionArn
    ?.split(':')
    .pop()
    ?.match(/^(alma-cache-[a-z]+)-[a-z0-9]+-(.+)$/);
  if (fromArn) return { service: fromArn[1], name: fromArn[2] };
  if (message.refresh) return { service: 'alma-cache-refresh', name: REFRESH_FUNCTION_OF_QUEUE[message.refresh.queueKind] };
  if (message.sns) {
    // Both keys come from the parked message: own keys only, so 'constructor' or 'toString' names no function.
    const almaEvent = message.sns.almaEvent;
    const routed =
      almaEvent && Object.hasOwn(WEBHOOK_ROUTING_TABLE, almaEvent)
        ? WEBHOOK_ROUTING_TABLE[almaEvent as keyof typeof WEBHOOK_ROUTING_TABLE].topic
        : undefined;
    const topic = routed ?? (message.sns.topicArn.split(':').pop() as AlmaEventType);
    const name = Object.hasOwn(SNS_FUNCTION_OF_TOPIC, topic) ? SNS_FUNCTION_OF_TOPIC[topic] : undefined;
    if (name) return { service: 'alma-cache-sns', name };
  }
  return undefined;
};

/**
 * The cache-update function an Alma event goes back to, and the webhook body to give it: the DLQ's own function and
 * the body as it sits there, or for a failure-queue record of the SNS path the function it names (else the one
 * subscribed to its topic) and the SNS message. Undefined for anything else (refresh messages, stream batches, a
 * record without an SNS message, a function outside the four).
 *
 * @example
 * webhookOf(classifyMessage(received, 'alma-cache-stg-loan-updated-dlq')); // { fn: 'loan-updated', body: '{"id":…}', attributes: {…} }
 */
export const webhookOf = (message: ParkedMessage): { fn: EventFunction; body: string; attributes: Record<string, MessageAttribute> } | undefined => {
  if (message.event) return { fn: message.event.fn, body: message.body, attributes: message.messageAttributes ?? {} };
  if (!message.sns) return undefined;
  const fn = functionFor(message);
  const name = fn?.service === 'alma-cache-sns' ? EVENT_FUNCTIONS.find((candidate) => candidate === fn.name) : undefined;
  return name ? { fn: name, body: message.sns.message, attributes: message.sns.attributes } : undefined;
};

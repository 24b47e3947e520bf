import { type MessageAttributeValue, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSMessageAttributes } from 'aws-lambda';
import { PARKED_REASON_ATTRIBUTES } from '@alma-cache/aws-adapters';
import { sqsEvent, sqsRecord } from '@alma-cache/local-aws';
import { functionFor, type MessageAttribute, type ParkedMessage, webhookOf } from './classify';
import type { FunctionInvoker, FunctionRef } from './invokers';
import { type EventFunction, queueNameOf } from './queue-names';

/** What a replay would do with one message, or why it cannot. */
export type ReplayPlan = { action: string } | { skip: string };

/** Where `replay --to` sends messages. */
export interface ReplayTarget {
  readonly name: 'source' | 'handler';
  plan(message: ParkedMessage): Promise<ReplayPlan>;
  /** Replays one message: resolves with a one-line result once the replay was accepted, throws with the reason otherwise. */
  replay(message: ParkedMessage): Promise<string>;
}

/** The attributes a function adds when it parks a message it refused: the reason of that refusal, not of the message. */
const REFUSAL_ATTRIBUTES: ReadonlySet<string> = new Set(Object.values(PARKED_REASON_ATTRIBUTES));

/**
 * Message attributes as received are SendMessage's shape already (DataType with a string or binary value); the reason
 * of an earlier refusal stays behind, so a function that refuses the message again writes its own.
 */
const sendableAttributes = (attributes: Record<string, MessageAttribute> | undefined): Record<string, MessageAttributeValue> | undefined => {
  const kept = Object.entries(attributes ?? {}).filter(([name]) => !REFUSAL_ATTRIBUTES.has(name));
  return kept.length > 0 ? (Object.fromEntries(kept) as Record<string, MessageAttributeValue>) : undefined;
};

/** What goes back to a queue: the body and its own attributes, to the DLQ's source queue or a cache-update function's queue. */
const outgoing = (message: ParkedMessage): { body: string; attributes?: Record<string, MessageAttributeValue>; fn?: EventFunction } | undefined => {
  if (message.refresh) return { body: message.body, attributes: sendableAttributes(message.messageAttributes) };
  const webhook = webhookOf(message);
  if (!webhook) return undefined;
  // A DLQ message goes back to the DLQ's own source queue; a failure-queue record to the queue of its function.
  return { body: webhook.body, attributes: sendableAttributes(webhook.attributes), fn: message.event ? undefined : webhook.fn };
};

/** Why a message has nothing to send back, for the plan's skip line. */
const nothingToSend = (message: ParkedMessage): string =>
  message.kind === 'lambda-failure' && !message.sns
    ? 'the record holds no SNS message (a damaged envelope): nothing to send back'
    : 'no cache-update function is known for it: nothing to send back';

/**
 * Back where it came from, message by message, each deleted from the DLQ only once SQS took the copy:
 * - a cache-update or refresh DLQ message: its body and its own attributes (not the refusal's `RefusedErrorType` /
 *   `RefusedReason`) to the DLQ's source queue, where its function takes it as usual;
 * - a failure-queue record of the SNS path (upgrade): its SNS message, the raw Alma body and its attributes, to the
 *   queue of the function the record names (a raw SNS notification: the function subscribed to its topic), as the
 *   topic's raw subscription delivers it now. The topic is not published to, so its other subscribers do not get the
 *   event a second time.
 */
export const sourceTarget = (deps: {
  sqs: SQSClient;
  sourceQueueUrl: () => Promise<string>;
  /** A cache-update function's queue: its name for the plan, its URL (looked up only to send, so a missing one fails that message). */
  eventQueue: (fn: EventFunction) => { name: string; url: () => Promise<string> };
}): ReplayTarget => {
  const destination = (sending: { fn?: EventFunction }) => (sending.fn ? deps.eventQueue(sending.fn).url() : deps.sourceQueueUrl());
  return {
    name: 'source',
    async plan(message) {
      if (message.notReplayable) return { skip: message.notReplayable };
      const sending = outgoing(message);
      if (!sending) return { skip: nothingToSend(message) };
      return { action: `send to ${sending.fn ? deps.eventQueue(sending.fn).name : queueNameOf(await deps.sourceQueueUrl())}` };
    },
    async replay(message) {
      const sending = outgoing(message);
      if (message.notReplayable || !sending) throw new Error(message.notReplayable ?? nothingToSend(message));
      const queueUrl = await destination(sending);
      const { MessageId } = await deps.sqs.send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: sending.body, MessageAttributes: sending.attributes }),
      );
      if (!MessageId) throw new Error('SQS accepted the message without a message id');
      return `sent to ${queueNameOf(queueUrl)} as ${MessageId}`;
    },
  };
};

/** Attributes in the shape Lambda's SQS event spells them (lower camel case, binary values in base64). */
const lambdaAttributes = (attributes: Record<string, MessageAttributeValue> | undefined): SQSMessageAttributes =>
  Object.fromEntries(
    Object.entries(attributes ?? {}).map(([name, attribute]) => [
      name,
      {
        dataType: attribute.DataType ?? 'String',
        ...(attribute.StringValue !== undefined ? { stringValue: attribute.StringValue } : {}),
        ...(attribute.BinaryValue !== undefined ? { binaryValue: Buffer.from(attribute.BinaryValue).toString('base64') } : {}),
        stringListValues: [],
        binaryListValues: [],
      },
    ]),
  );

/** An SQS event with one record, as Lambda's SQS poller hands a message to the function: `body` with `attributes`. */
export const sqsEventFor = (
  message: ParkedMessage,
  eventSourceArn: string,
  body = message.body,
  attributes?: Record<string, MessageAttributeValue>,
) =>
  sqsEvent([
    {
      ...sqsRecord(body, eventSourceArn, {
        messageId: message.messageId,
        receiptHandle: message.receiptHandle,
        receiveCount: message.receiveCount || 1,
        sentTimestamp: message.sentAt ? Date.parse(message.sentAt) : undefined,
        senderId: 'redrive',
      }),
      messageAttributes: lambdaAttributes(attributes),
    },
  ]);

/**
 * Straight to the function: a one-record SQS event, as its queue's trigger would hand it the message, invoked
 * synchronously. A cache-update DLQ message or a failure-queue record of the SNS path goes to its cache-update
 * function (the raw Alma body and its attributes, without the refusal's), a refresh DLQ message to its refresh
 * function. The replay failed if the function threw or reported the record in `batchItemFailures`. `functionName`
 * overrides the function a message would go to.
 */
export const handlerTarget = (deps: { invoker: FunctionInvoker; functionName?: string; eventSourceArn: string }): ReplayTarget => {
  const functionOf = (message: ParkedMessage): FunctionRef | undefined => {
    const fn = functionFor(message);
    if (deps.functionName) return { service: fn?.service ?? '', name: deps.functionName, arn: deps.functionName };
    if (!fn) return undefined;
    return message.functionArn ? { ...fn, arn: message.functionArn } : fn;
  };
  return {
    name: 'handler',
    async plan(message) {
      if (message.notReplayable) return { skip: message.notReplayable };
      if (!outgoing(message)) return { skip: message.kind === 'unknown' ? 'not an event a function of the stacks takes' : nothingToSend(message) };
      const fn = functionOf(message);
      if (!fn) return { skip: 'no function is known for it: name one with --function' };
      return { action: `invoke ${deps.invoker.describe(fn)} with a one-record SQS event (RequestResponse)` };
    },
    async replay(message) {
      const plan = await this.plan(message);
      const fn = functionOf(message);
      const sending = outgoing(message);
      if ('skip' in plan || !fn || !sending) throw new Error('skip' in plan ? plan.skip : 'no function');
      const response = (await deps.invoker.invokeSync(fn, sqsEventFor(message, deps.eventSourceArn, sending.body, sending.attributes))) as
        { batchItemFailures?: { itemIdentifier?: string }[] } | undefined;
      if ((response?.batchItemFailures ?? []).some((failure) => failure.itemIdentifier === message.messageId)) {
        throw Object.assign(new Error(`the function reported it in batchItemFailures; its log names the reason by message id ${message.messageId}`), {
          name: 'BatchItemFailure',
        });
      }
      return `${deps.invoker.describe(fn)} processed it`;
    },
  };
};

import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { type MessageAttributeValue, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { functionFor, type ParkedMessage } from './classify';
import type { FunctionInvoker, FunctionRef } from './invokers';
import { queueNameOf } from './queue-names';
import { PARKED_REASON_ATTRIBUTES } from '@alma-cache/aws-adapters';
import { sqsEvent, sqsRecord } from '@alma-cache/local-aws';

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
 * of an earlier refusal stays behind.
 */
const sendableAttributes = (message: ParkedMessage): Record<string, MessageAttributeValue> | undefined => {
  const kept = Object.entries(message.messageAttributes ?? {}).filter(([name]) => !REFUSAL_ATTRIBUTES.has(name));
  return kept.length > 0 ? (Object.fromEntries(kept) as Record<string, MessageAttributeValue>) : undefined;
};

/**
 * Back where it came from: an SNS message is published again to its topic (every subscription of the topic gets
 * it, as the first time), a refresh DLQ message is sent to its source queue (its function then takes it as usual).
 */
export const sourceTarget = (deps: { sns: SNSClient; sqs: SQSClient; sourceQueueUrl: () => Promise<string> }): ReplayTarget => ({
  name: 'source',
  async plan(message) {
    if (message.notReplayable) return { skip: message.notReplayable };
    if (message.sns) return { action: `publish to ${message.sns.topicArn.split(':').pop()}` };
    if (message.refresh) return { action: `send to ${queueNameOf(await deps.sourceQueueUrl())}` };
    return { skip: 'the record holds no SNS message (a damaged envelope): no topic to publish to; try --to handler' };
  },
  async replay(message) {
    if (message.sns) {
      const { MessageId } = await deps.sns.send(
        new PublishCommand({ TopicArn: message.sns.topicArn, Message: message.sns.message, MessageAttributes: message.sns.attributes }),
      );
      if (!MessageId) throw new Error('SNS accepted the publish without a message id');
      return `published as ${MessageId}`;
    }
    if (message.refresh) {
      const queueUrl = await deps.sourceQueueUrl();
      const { MessageId } = await deps.sqs.send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: message.body, MessageAttributes: sendableAttributes(message) }),
      );
      if (!MessageId) throw new Error('SQS accepted the message without a message id');
      return `sent to ${queueNameOf(queueUrl)} as ${MessageId}`;
    }
    throw new Error(((await this.plan(message)) as { skip: string }).skip);
  },
});

/** An SQS event with one record, as Lambda's SQS poller hands a message to the function. */
export const sqsEventFor = (message: ParkedMessage, eventSourceArn: string) =>
  sqsEvent([
    sqsRecord(message.body, eventSourceArn, {
      messageId: message.messageId,
      receiptHandle: message.receiptHandle,
      receiveCount: message.receiveCount || 1,
      sentTimestamp: message.sentAt ? Date.parse(message.sentAt) : undefined,
      senderId: 'redrive',
    }),
  ]);

/**
 * Straight to the function that failed: an SNS message as the SNS event (asynchronously, as SNS invokes, unless
 * `sync`), a refresh message as a one-record SQS event, synchronously, failing if the function threw or reported
 * the record in `batchItemFailures`. `functionName` overrides the function a message would go to.
 */
export const handlerTarget = (deps: { invoker: FunctionInvoker; sync?: boolean; functionName?: string; eventSourceArn: string }): ReplayTarget => {
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
      const fn = functionOf(message);
      if (!fn) return { skip: 'no function is known for it: name one with --function' };
      if (message.refresh) return { action: `invoke ${deps.invoker.describe(fn)} with an SQS event (RequestResponse)` };
      if (message.sns || message.kind === 'lambda-failure')
        return { action: `invoke ${deps.invoker.describe(fn)} with the SNS event (${deps.sync ? 'RequestResponse' : 'Event'})` };
      return { skip: 'not an event a function of the stacks takes' };
    },
    async replay(message) {
      const plan = await this.plan(message);
      const fn = functionOf(message);
      if ('skip' in plan || !fn) throw new Error('skip' in plan ? plan.skip : 'no function');
      if (message.refresh) {
        const response = (await deps.invoker.invokeSync(fn, sqsEventFor(message, deps.eventSourceArn))) as
          { batchItemFailures?: { itemIdentifier?: string }[] } | undefined;
        if ((response?.batchItemFailures ?? []).some((failure) => failure.itemIdentifier === message.messageId)) {
          throw Object.assign(
            new Error(`the function reported it in batchItemFailures; its log names the reason by message id ${message.messageId}`),
            {
              name: 'BatchItemFailure',
            },
          );
        }
        return `${deps.invoker.describe(fn)} processed it`;
      }
      // The on-failure record keeps the event exactly as the function got it; a raw envelope was rebuilt into one.
      const event = message.kind === 'lambda-failure' ? (JSON.parse(message.body) as { requestPayload: unknown }).requestPayload : message.sns?.event;
      if (deps.sync) {
        await deps.invoker.invokeSync(fn, event);
        return `${deps.invoker.describe(fn)} processed it`;
      }
      await deps.invoker.invokeEvent(fn, event);
      return deps.invoker.where === 'Lambda Invoke'
        ? `${deps.invoker.describe(fn)} accepted it (Event)`
        : `${deps.invoker.describe(fn)} processed it`;
    },
  };
};

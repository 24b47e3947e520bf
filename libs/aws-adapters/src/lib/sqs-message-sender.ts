import { type MessageAttributeValue, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** Sends messages to one queue, as they are: the body unchanged, the attributes given and nothing else. */
export interface MessageSender {
  /** Resolves with SQS's message id; rejects when SQS did not take the message. */
  send(body: string, attributes?: Readonly<Record<string, MessageAttributeValue>>): Promise<string>;
}

/**
 * {@link MessageSender} with SendMessage to one queue. The function's role needs `sqs:SendMessage` on that queue.
 * Used by the sns-lambdas upgrade forwarder (apps/sns-lambdas/src/sns-upgrade-forwarder.ts) only, and goes with it
 * in the next release unless something else uses it by then.
 *
 * @example
 * const sender = new SqsMessageSender(createSqsClient(), process.env.SOURCE_QUEUE_URL!);
 * await sender.send(webhookBody, { alma_event_type: { DataType: 'String', StringValue: 'LOAN_CREATED' } });
 */
export class SqsMessageSender implements MessageSender {
  public constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  public async send(body: string, attributes: Readonly<Record<string, MessageAttributeValue>> = {}): Promise<string> {
    const { MessageId } = await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: body,
        ...(Object.keys(attributes).length > 0 ? { MessageAttributes: { ...attributes } } : {}),
      }),
    );
    if (!MessageId) throw new Error('SQS accepted the message without a message id');
    return MessageId;
  }
}

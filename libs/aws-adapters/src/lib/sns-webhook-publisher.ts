import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { type AlmaEventType, MAX_WEBHOOK_BYTES, type WebhookPublication, type WebhookPublisher } from '@alma-cache/cache-domain';

/** A webhook SNS would refuse however often it is sent: the receiver answers 413 rather than have Alma retry it. */
export class WebhookTooLargeError extends Error {
  public readonly code = 'WEBHOOK_TOO_LARGE';

  public constructor(public readonly bytes: number) {
    super(`the webhook is ${bytes} bytes with its attributes; an SNS message holds at most ${MAX_WEBHOOK_BYTES}`);
    this.name = 'WebhookTooLargeError';
  }
}

/**
 * The per-event SNS topics the cache's functions subscribe to. The message is the webhook body exactly as Alma sent
 * it (the cache-update stack's functions parse it); `alma_event_type` (the webhook's own `event.value`, e.g. LOAN_LOST on the
 * LOAN_RETURNED topic) and `alma_event_id` are String message attributes, for subscription filter policies.
 *
 * @example
 * const publisher = new SnsWebhookPublisher(new SNSClient({}), { LOAN_CREATED: 'arn:aws:sns:eu-west-1:123456789012:alma-loan-created', … });
 * const { messageId } = await publisher.publish({ topic: 'LOAN_CREATED', eventType: 'LOAN_CREATED', body });
 * @throws WebhookTooLargeError before sending, when SNS would refuse the size; whatever SNS answers otherwise
 */
export class SnsWebhookPublisher implements WebhookPublisher {
  public constructor(
    private readonly client: SNSClient,
    private readonly topicArns: Readonly<Record<AlmaEventType, string>>,
  ) {}

  public async publish(publication: WebhookPublication): Promise<{ messageId: string }> {
    const attributes: Record<string, string> = { alma_event_type: publication.eventType };
    // The id is checked once, at the boundary: ReceiveWebhook refuses one that fails the identifier rule.
    if (publication.almaEventId !== undefined) attributes['alma_event_id'] = publication.almaEventId;
    const bytes =
      Buffer.byteLength(publication.body, 'utf8') +
      Object.entries(attributes).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + 'String'.length + Buffer.byteLength(value), 0);
    if (bytes > MAX_WEBHOOK_BYTES) throw new WebhookTooLargeError(bytes);

    const { MessageId } = await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArns[publication.topic],
        Message: publication.body,
        MessageAttributes: Object.fromEntries(Object.entries(attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }])),
      }),
    );
    return { messageId: MessageId ?? '' };
  }
}

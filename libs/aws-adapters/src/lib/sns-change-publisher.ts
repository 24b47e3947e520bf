import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { type CacheChange, type ChangePublisher, changeAttributes } from '@alma-cache/cache-domain';

/**
 * The change notifications on SNS: the body is the {@link CacheChange} as JSON, and its `changeAttributes`
 * (`entity`, `change`, `patron`, `recordId`, `source`, and `status` for requests) are String message attributes, so that a
 * subscription's filter policy selects events without parsing bodies.
 *
 * @example
 * await new SnsChangePublisher(new SNSClient({}), process.env.CHANGE_TOPIC_ARN!).publish(change);
 */
export class SnsChangePublisher implements ChangePublisher {
  public constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  public async publish(change: CacheChange): Promise<void> {
    const attributes = Object.entries(changeAttributes(change)).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]);
    await this.client.send(
      new PublishCommand({ TopicArn: this.topicArn, Message: JSON.stringify(change), MessageAttributes: Object.fromEntries(attributes) }),
    );
  }
}

import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { CacheChange, ChangePublisher } from '@alma-cache/cache-domain';

/**
 * The SNS message attributes of a change, so that subscriptions filter without parsing bodies: `entity`,
 * `change`, `patron`, `recordId` (the `loan_id` or `request_id`), `source`, and for requests `status`, the
 * request's status after the change (before it, for a request deleted outright).
 *
 * @example
 * changeAttributes(change); // { entity: 'request', change: 'request.status-changed', patron: 'pat0042x', recordId: '8812300040004561', source: 'webhook', status: 'ON_HOLD_SHELF' }
 */
export const changeAttributes = (change: CacheChange): Readonly<Record<string, string>> => {
  const status = (change.new ?? change.old)?.['request_status'];
  return {
    entity: change.entity,
    change: change.change,
    patron: change.patron,
    recordId: change.recordId,
    source: change.source,
    ...(change.entity === 'request' && typeof status === 'string' && status !== '' ? { status } : {}),
  };
};

/**
 * The change notifications on SNS: the body is the {@link CacheChange} as JSON, and its {@link changeAttributes}
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

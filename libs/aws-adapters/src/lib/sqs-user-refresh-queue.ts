import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { UserRefreshQueue } from '@alma-cache/cache-domain';

/**
 * The Users queue on SQS. The body is the bare patron id: the bulk-refresh consumer expects nothing else.
 *
 * @example
 * await new SqsUserRefreshQueue(createSqsClient(), process.env.USER_QUEUE_URL!).requestRefresh('PAT0042X');
 */
export class SqsUserRefreshQueue implements UserRefreshQueue {
  public constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  public async requestRefresh(userPrimaryId: string): Promise<void> {
    await this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: userPrimaryId }));
  }
}

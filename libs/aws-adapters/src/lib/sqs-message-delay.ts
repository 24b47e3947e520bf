import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';

/**
 * The longest delay asked for: SQS refuses a visibility timeout that takes a message past 12 hours from its receive,
 * and Lambda's poller received it up to a function timeout plus a batching window ago; 15 minutes cover both.
 */
export const MAX_MESSAGE_DELAY_SECONDS = 43_200 - 15 * 60;

/** Where a received message is, as Lambda's SQS event names it. */
export interface ReceivedMessage {
  /** The queue's ARN (`eventSourceARN` of the SQS record). */
  readonly queueArn: string;
  readonly receiptHandle: string;
}

/** Hides a received message for a while, so it is received again only then. */
export interface MessageDelay {
  /**
   * Makes `message` visible again in `seconds` (rounded up, capped at {@link MAX_MESSAGE_DELAY_SECONDS}); resolves
   * to the delay applied.
   */
  delay(message: ReceivedMessage, seconds: number): Promise<number>;
}

const ARN = /^arn:(aws[a-z-]*):sqs:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,80}(?:\.fifo)?)$/;

/**
 * The queue URL of an SQS queue ARN: `https://sqs.<region>.amazonaws.com/<account>/<name>` (`.amazonaws.com.cn` in
 * China). The client is built with `useQueueUrlAsEndpoint: false`, so the URL only names the queue and a local
 * endpoint (moto, LocalStack) still receives the request.
 *
 * @example
 * queueUrlOfArn('arn:aws:sqs:eu-west-1:123456789012:alma-cache-prod-loans');
 * // 'https://sqs.eu-west-1.amazonaws.com/123456789012/alma-cache-prod-loans'
 * @throws Error when `arn` is not an SQS queue ARN
 */
export const queueUrlOfArn = (arn: string): string => {
  const match = ARN.exec(arn);
  if (!match) throw new Error(`not an SQS queue ARN: ${JSON.stringify(arn.slice(0, 200))}`);
  const [, partition, region, account, name] = match;
  return `https://sqs.${region}.amazonaws.com${partition === 'aws-cn' ? '.cn' : ''}/${account}/${name}`;
};

/**
 * {@link MessageDelay} with ChangeMessageVisibility. The function's role needs `sqs:ChangeMessageVisibility` on the
 * queue it consumes.
 *
 * @example
 * const delay = new SqsMessageDelay(createSqsClient());
 * await delay.delay({ queueArn: record.eventSourceARN, receiptHandle: record.receiptHandle }, 120);
 */
export class SqsMessageDelay implements MessageDelay {
  public constructor(private readonly client: SQSClient) {}

  public async delay(message: ReceivedMessage, seconds: number): Promise<number> {
    const timeout = Math.min(MAX_MESSAGE_DELAY_SECONDS, Math.max(0, Math.ceil(seconds)));
    await this.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrlOfArn(message.queueArn),
        ReceiptHandle: message.receiptHandle,
        VisibilityTimeout: timeout,
      }),
    );
    return timeout;
  }
}

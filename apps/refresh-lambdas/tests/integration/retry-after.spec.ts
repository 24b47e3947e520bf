import { Logger } from '@aws-lambda-powertools/logger';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { AlmaRequestError, AlmaUnavailableError } from '@alma-cache/cache-domain';
import { createSqsClient, type MessageDelay, type ReceivedMessage, SqsMessageDelay } from '@alma-cache/aws-adapters';
import { createQueue } from '@alma-cache/aws-adapters/testing';
import { CapturedMetrics, sqsEvent as eventOf, sqsRecord as recordOf } from '@alma-cache/local-aws';
import { createRefreshBatchHandler } from '../../src/refresh-batch-handler';
import { sqsEvent, sqsRecord } from '../support/sqs-event';

/** A MessageDelay that remembers what it was asked, as SQS would cap it. */
class RecordingDelay implements MessageDelay {
  public readonly asked: { message: ReceivedMessage; seconds: number }[] = [];
  public failWith?: Error;

  public async delay(message: ReceivedMessage, seconds: number): Promise<number> {
    if (this.failWith) throw this.failWith;
    this.asked.push({ message, seconds });
    return seconds;
  }
}

describe('Function: createRefreshBatchHandler (Retry-After)', () => {
  const logger = new Logger({ logLevel: 'SILENT' });
  const metrics = () => new CapturedMetrics('alma-cache-refresh');

  it("delays only the message Alma throttled, by Alma's Retry-After, and still reports it failed", async () => {
    // Prepare
    const delay = new RecordingDelay();
    const errors = jest.spyOn(logger, 'error');
    const failures: Record<string, Error> = {
      THROTTLED: new AlmaUnavailableError('HTTP 429 on every attempt', 120),
      DOWN: new AlmaUnavailableError('HTTP 503 on every attempt'),
      REFUSED: new AlmaRequestError(400, 'bad id'),
    };
    const handler = createRefreshBatchHandler(
      async (record) => {
        if (failures[record.body]) throw failures[record.body];
      },
      logger,
      metrics(),
      'loan',
      delay,
    );
    const records = ['OK', 'THROTTLED', 'DOWN', 'REFUSED'].map((body) => sqsRecord(body));

    // Act
    const response = await handler(sqsEvent(...records));

    // Assess
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(
      [records[1], records[2], records[3]].map((r) => r.messageId).sort(),
    );
    expect(delay.asked).toEqual([{ message: { queueArn: records[1].eventSourceARN, receiptHandle: records[1].receiptHandle }, seconds: 120 }]);
    const logged = errors.mock.calls.map(([, details]) => details as Record<string, unknown>);
    expect(logged.find((details) => details['messageId'] === records[1].messageId)).toMatchObject({
      retryAfterSeconds: 120,
      delayedSeconds: 120,
      retryable: true,
    });
    expect(logged.find((details) => details['messageId'] === records[2].messageId)?.['delayedSeconds']).toBeUndefined();
  });

  it('still reports the message failed when the delay itself fails, warning why', async () => {
    // Prepare
    const delay = new RecordingDelay();
    delay.failWith = new Error('AccessDenied: sqs:ChangeMessageVisibility');
    const warnings = jest.spyOn(logger, 'warn');
    const handler = createRefreshBatchHandler(async () => Promise.reject(new AlmaUnavailableError('429', 60)), logger, metrics(), 'fee', delay);
    const record = sqsRecord('X');

    // Act
    const response = await handler(sqsEvent(record));

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(warnings).toHaveBeenCalledWith(
      expect.stringContaining('Could not delay'),
      expect.objectContaining({ messageId: record.messageId, retryAfterSeconds: 60 }),
    );
  });
});

// The handler with the real adapter against the emulator's SQS: the throttled message really stays hidden.
describe('Integration: Retry-After delays the message on SQS', () => {
  const sqs = createSqsClient();
  afterAll(() => sqs.destroy());

  it('hides the throttled message for Retry-After seconds instead of the visibility timeout, then it comes back', async () => {
    // Prepare: a message received as Lambda's poller receives it (here with a 1 s visibility timeout).
    const queueUrl = await createQueue(`loans-${Date.now()}`);
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"userID":"PAT0042X","loanID":"l1"}' }));
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, VisibilityTimeout: 1, MaxNumberOfMessages: 1 }));
    const record = recordOf(Messages[0].Body!, Attributes!['QueueArn']!, {
      messageId: Messages[0].MessageId,
      receiptHandle: Messages[0].ReceiptHandle,
    });
    const handler = createRefreshBatchHandler(
      async () => Promise.reject(new AlmaUnavailableError('HTTP 429 on every attempt', 3)),
      new Logger({ logLevel: 'SILENT' }),
      new CapturedMetrics('alma-cache-refresh'),
      'loan',
      new SqsMessageDelay(sqs),
    );
    const receive = async () => (await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 0 }))).Messages ?? [];

    // Act
    const response = await handler(eventOf([record]));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const afterVisibilityTimeout = await receive();
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const afterRetryAfter = await receive();

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(afterVisibilityTimeout).toEqual([]);
    expect(afterRetryAfter.map((message) => message.MessageId)).toEqual([record.messageId]);
  }, 20_000);
});

import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { createSqsClient, SqsMessageDelay } from '../../src';
import { MAX_MESSAGE_DELAY_SECONDS, queueUrlOfArn } from '../../src/lib/sqs-message-delay';
import { createQueue } from '../../src/testing';

describe('Function: queueUrlOfArn', () => {
  it('builds the queue URL from the ARN', () => {
    expect(queueUrlOfArn('arn:aws:sqs:eu-west-1:123456789012:alma-cache-prod-loans')).toBe(
      'https://sqs.eu-west-1.amazonaws.com/123456789012/alma-cache-prod-loans',
    );
  });

  it.each(['arn:aws:sns:eu-west-1:123456789012:topic', 'arn:aws:sqs:eu-west-1:1:q', 'not an arn', 'arn:aws:sqs:eu-west-1:123456789012:a/b'])(
    'refuses %s',
    (arn) => {
      expect(() => queueUrlOfArn(arn)).toThrow('not an SQS queue ARN');
    },
  );
});

// Against the emulator's SQS (moto or LocalStack): the delay really hides the message.
describe('Class: SqsMessageDelay', () => {
  const sqs = createSqsClient();
  afterAll(() => sqs.destroy());

  const received = async (queueUrl: string, visibility?: number) =>
    (await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 0, MaxNumberOfMessages: 1, VisibilityTimeout: visibility })))
      .Messages ?? [];

  it('hides a received message for the delay, capped under 12 hours, then it is received again', async () => {
    // Prepare
    const queueUrl = await createQueue();
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
    const queueArn = Attributes!['QueueArn']!;
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"userID":"PAT0042X","loanID":"l1"}' }));
    const [first] = await received(queueUrl, 1);
    const delay = new SqsMessageDelay(sqs);

    // Act: a long delay (over SQS's cap), then one of 2 s on a second receive.
    const capped = await delay.delay({ queueArn, receiptHandle: first.ReceiptHandle! }, 86_400);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const whileHidden = await received(queueUrl);

    // Assess: still hidden after the original 1 s visibility timeout.
    expect(capped).toBe(MAX_MESSAGE_DELAY_SECONDS);
    expect(whileHidden).toEqual([]);

    // Act: shorten it (ChangeMessageVisibility counts from now) and wait it out.
    await delay.delay({ queueArn, receiptHandle: first.ReceiptHandle! }, 1.2);
    const stillHidden = await received(queueUrl);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const again = await received(queueUrl);

    // Assess
    expect(stillHidden).toEqual([]);
    expect(again.map((message) => message.Body)).toEqual([first.Body]);
  }, 20_000);
});

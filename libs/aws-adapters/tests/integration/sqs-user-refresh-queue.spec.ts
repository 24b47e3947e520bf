import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { createSqsClient, SqsUserRefreshQueue } from '../../src';
import { createQueue } from '../../src/testing';

describe('Class: SqsUserRefreshQueue', () => {
  const sqs = createSqsClient();
  afterAll(() => sqs.destroy());

  it('sends the bare patron id as the message body', async () => {
    // Prepare
    const queueUrl = await createQueue();

    // Act
    await new SqsUserRefreshQueue(sqs, queueUrl).requestRefresh('PAT0042X');

    // Assess
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }));
    expect(Messages?.map((message) => message.Body)).toEqual(['PAT0042X']);
  });

  it('fails loudly when the queue does not exist', async () => {
    // Prepare
    const queueUrl = (await createQueue()).replace(/[^/]+$/, 'no-such-queue');

    // Act / Assess
    await expect(new SqsUserRefreshQueue(sqs, queueUrl).requestRefresh('PAT0042X')).rejects.toThrow(/queue/i);
  });
});

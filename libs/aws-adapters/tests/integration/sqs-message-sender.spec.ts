import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { createSqsClient, SqsMessageSender } from '../../src';
import { createQueue } from '../../src/testing';

describe('Class: SqsMessageSender', () => {
  const sqs = createSqsClient();
  afterAll(() => sqs.destroy());

  it('sends the body unchanged with the attributes given, and resolves with the message id', async () => {
    // Prepare
    const queueUrl = await createQueue();
    const body = '{"id":"evt-1","event":{"value":"LOAN_CREATED"},"note":"ünïcödé ✓"}';

    // Act
    const messageId = await new SqsMessageSender(sqs, queueUrl).send(body, { alma_event_type: { DataType: 'String', StringValue: 'LOAN_CREATED' } });

    // Assess
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }),
    );
    expect(Messages.map((message) => ({ id: message.MessageId, body: message.Body, type: message.MessageAttributes?.['alma_event_type'] }))).toEqual([
      { id: messageId, body, type: { DataType: 'String', StringValue: 'LOAN_CREATED' } },
    ]);
  });

  it('fails loudly when the queue does not exist', async () => {
    // Prepare
    const queueUrl = (await createQueue()).replace(/[^/]+$/, 'no-such-queue');

    // Act / Assess
    await expect(new SqsMessageSender(sqs, queueUrl).send('body')).rejects.toThrow(/queue/i);
  });
});

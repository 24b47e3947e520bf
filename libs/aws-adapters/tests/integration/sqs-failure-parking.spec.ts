import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { createSqsClient } from '../../src';
import { MAX_REASON_ATTRIBUTE_LENGTH, PARKED_REASON_ATTRIBUTES, SqsFailureParking, sqsAttributeText } from '../../src/lib/sqs-failure-parking';
import { createQueue } from '../../src/testing';

describe('Function: sqsAttributeText', () => {
  it('replaces characters SQS refuses, cuts long text and never answers empty', () => {
    // Act
    const cleaned = sqsAttributeText('a\u0000b\uD800c\u0007d');
    const cut = sqsAttributeText('x'.repeat(5000));
    const empty = sqsAttributeText('');

    // Assess
    expect(cleaned).toBe('a\uFFFDb\uFFFDc\uFFFDd');
    expect(cut).toHaveLength(MAX_REASON_ATTRIBUTE_LENGTH);
    expect(cut.endsWith('…')).toBe(true);
    expect(empty).toBe('-');
  });

  it('leaves no lone surrogate where the cut splits a surrogate pair', () => {
    // Prepare: the cut falls between the two halves of the first emoji
    const text = `${'x'.repeat(MAX_REASON_ATTRIBUTE_LENGTH - 2)}${'\u{1F600}'.repeat(5)}`;

    // Act
    const cut = sqsAttributeText(text);

    // Assess
    expect(cut).toBe(`${'x'.repeat(MAX_REASON_ATTRIBUTE_LENGTH - 2)}\uFFFD…`);
    expect(cut.length).toBeLessThanOrEqual(MAX_REASON_ATTRIBUTE_LENGTH);
    // With the u flag a valid pair is one astral code point, so \p{Cs} matches only a lone half
    expect(cut).not.toMatch(/\p{Cs}/u);
  });
});

// Against the emulator's SQS (moto or LocalStack): what a refused message looks like on the queue.
describe('Class: SqsFailureParking', () => {
  const sqs = createSqsClient();
  afterAll(() => sqs.destroy());

  const receiveAll = async (queueUrl: string) =>
    (await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] })))
      .Messages ?? [];

  it('sends the body unchanged with the refusal as message attributes, keeping the message own attributes', async () => {
    // Prepare
    const queueUrl = await createQueue();
    const parking = new SqsFailureParking(sqs, queueUrl);
    const body = '{"userID":"PAT0042X","loanID":""}';

    // Act
    const messageId = await parking.park(
      body,
      { errorType: 'MalformedRefreshMessageError', reason: '"loanID" is empty \u0000' },
      {
        traceparent: { DataType: 'String', StringValue: 'abc' },
        [PARKED_REASON_ATTRIBUTES.reason]: { DataType: 'String', StringValue: 'an older reason' },
      },
    );

    // Assess
    const [message, ...others] = await receiveAll(queueUrl);
    expect(others).toEqual([]);
    expect(message.MessageId).toBe(messageId);
    expect(message.Body).toBe(body);
    expect(message.MessageAttributes).toEqual({
      traceparent: expect.objectContaining({ DataType: 'String', StringValue: 'abc' }),
      RefusedErrorType: expect.objectContaining({ DataType: 'String', StringValue: 'MalformedRefreshMessageError' }),
      RefusedReason: expect.objectContaining({ DataType: 'String', StringValue: '"loanID" is empty \uFFFD' }),
    });
  });

  it('keeps at most 8 of the message own attributes, so SQS takes the message (10 at most)', async () => {
    // Prepare
    const queueUrl = await createQueue();
    const many = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`a${i}`, { DataType: 'String', StringValue: String(i) }]));

    // Act
    await new SqsFailureParking(sqs, queueUrl).park('PAT0042X', { errorType: 'MalformedRefreshMessageError', reason: 'r' }, many);

    // Assess
    const [message] = await receiveAll(queueUrl);
    expect(Object.keys(message.MessageAttributes ?? {}).sort()).toEqual([
      'RefusedErrorType',
      'RefusedReason',
      'a0',
      'a1',
      'a2',
      'a3',
      'a4',
      'a5',
      'a6',
      'a7',
    ]);
  });

  it('parks on the queue an ARN names (the value the role grant names)', async () => {
    // Prepare
    const queueUrl = await createQueue();
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));

    // Act
    await SqsFailureParking.forQueueArn(sqs, Attributes!['QueueArn']!).park('PAT0042X', { errorType: 'MalformedRefreshMessageError', reason: 'r' });

    // Assess
    expect((await receiveAll(queueUrl)).map((message) => message.Body)).toEqual(['PAT0042X']);
  });

  it('rejects when SQS does not take the message, so the caller can fall back to its retries', async () => {
    // Prepare: a queue that does not exist
    const parking = new SqsFailureParking(sqs, 'https://sqs.eu-west-1.amazonaws.com/000000000000/no-such-queue-for-parking');

    // Act
    const act = parking.park('PAT0042X', { errorType: 'MalformedRefreshMessageError', reason: 'r' });

    // Assess
    await expect(act).rejects.toThrow();
  });
});

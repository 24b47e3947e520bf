import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** What a receive asks for: every system attribute (receive count, sent time) and every message attribute. */
const RECEIVE = { MessageSystemAttributeNames: ['All' as const], MessageAttributeNames: ['All'], MaxNumberOfMessages: 10 };

/** How many messages the queue holds now, visible or not (SQS's approximations). */
export const countMessages = async (sqs: SQSClient, queueUrl: string): Promise<{ visible: number; inFlight: number }> => {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return {
    visible: Number(Attributes['ApproximateNumberOfMessages'] ?? 0),
    inFlight: Number(Attributes['ApproximateNumberOfMessagesNotVisible'] ?? 0),
  };
};

/**
 * Receives up to 10 messages, hidden for `visibilitySeconds` so that nobody else (nor our own next receive) gets
 * them while we work on them. Long polling (1 s) asks every SQS server, so an empty answer means an empty queue.
 */
export const receiveBatch = async (sqs: SQSClient, queueUrl: string, visibilitySeconds: number, max = 10): Promise<Message[]> => {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      ...RECEIVE,
      MaxNumberOfMessages: Math.min(10, Math.max(1, max)),
      VisibilityTimeout: visibilitySeconds,
      WaitTimeSeconds: 1,
    }),
  );
  return Messages;
};

/**
 * Makes messages visible again at once (ChangeMessageVisibility to 0), ten at a time. A handle that expired
 * meanwhile is already visible again, so its failure is ignored.
 */
export const restoreVisibility = async (sqs: SQSClient, queueUrl: string, receiptHandles: string[]): Promise<void> => {
  for (let start = 0; start < receiptHandles.length; start += 10) {
    const chunk = receiptHandles.slice(start, start + 10);
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((ReceiptHandle, index) => ({ Id: String(index), ReceiptHandle, VisibilityTimeout: 0 })),
      }),
    );
  }
};

/**
 * Reads up to `max` messages without consuming them: each is received with a short visibility timeout (so the next
 * receive returns others), and all are made visible again at the end, whatever happened in between.
 */
export const peekMessages = async (sqs: SQSClient, queueUrl: string, max: number, visibilitySeconds = 30): Promise<Message[]> => {
  const seen = new Map<string, Message>();
  const handles: string[] = [];
  try {
    while (seen.size < max) {
      const batch = await receiveBatch(sqs, queueUrl, visibilitySeconds, max - seen.size);
      if (batch.length === 0) break;
      let fresh = 0;
      for (const message of batch) {
        if (message.ReceiptHandle) handles.push(message.ReceiptHandle);
        if (!seen.has(message.MessageId ?? '')) fresh += 1;
        seen.set(message.MessageId ?? '', message);
      }
      // Only messages we already hold: the first ones' visibility ran out, so the queue has no others.
      if (fresh === 0) break;
    }
  } finally {
    await restoreVisibility(sqs, queueUrl, handles);
  }
  return [...seen.values()].slice(0, max);
};

/** Deletes one message by its current receipt handle. */
export const deleteMessage = async (sqs: SQSClient, queueUrl: string, receiptHandle: string): Promise<void> => {
  await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle }));
};

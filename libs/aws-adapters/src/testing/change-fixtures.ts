import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { createSqsClient } from '../lib/aws-clients';
import { ITEM_TABLES, USER_KEY } from '../lib/table-schema';

/** Cache tables whose Loans and Requests tables stream NEW_AND_OLD_IMAGES, as the cache-update stack's serverless.yml declares. */
export interface StreamedCacheTables {
  readonly users: string;
  readonly loans: string;
  readonly requests: string;
  readonly refreshClaims: string;
  readonly loansStreamArn: string;
  readonly requestsStreamArn: string;
}

/**
 * Fresh, uniquely named cache tables with streams on Loans and Requests (for tests of change notifications).
 *
 * @example
 * const tables = await createStreamedCacheTables();
 * tables.loansStreamArn; // 'arn:aws:dynamodb:ddblocal:000000000000:table/loans-1a2b3c4d/stream/…'
 */
export const createStreamedCacheTables = async (): Promise<StreamedCacheTables> => {
  const suffix = randomUUID().slice(0, 8);
  const client = new DynamoDBClient({});
  const create = async (name: string, key: string, streamed: boolean) => {
    const { TableDescription } = await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
        ...(streamed ? { StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } } : {}),
      }),
    );
    await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: name });
    return TableDescription?.LatestStreamArn ?? '';
  };
  try {
    const tables = { users: `users-${suffix}`, loans: `loans-${suffix}`, requests: `requests-${suffix}`, refreshClaims: `refresh-claims-${suffix}` };
    await create(tables.users, USER_KEY, false);
    await create(tables.refreshClaims, USER_KEY, false);
    const loansStreamArn = await create(tables.loans, ITEM_TABLES.loan.keyAttribute, true);
    const requestsStreamArn = await create(tables.requests, ITEM_TABLES.request.keyAttribute, true);
    return { ...tables, loansStreamArn, requestsStreamArn };
  } finally {
    client.destroy();
  }
};

/** A fresh SNS topic; its ARN. */
export const createTopic = async (name = `cache-changes-${randomUUID().slice(0, 8)}`): Promise<string> => {
  const sns = new SNSClient({});
  try {
    return (await sns.send(new CreateTopicCommand({ Name: name }))).TopicArn!;
  } finally {
    sns.destroy();
  }
};

/**
 * A fresh queue subscribed to `topicArn` with raw message delivery (the body is the event JSON, the SNS message
 * attributes become SQS message attributes) and, when given, a filter policy on the message attributes.
 *
 * @example
 * const queueUrl = await subscribeQueue(topicArn, { change: ['request.status-changed'], status: ['ON_HOLD_SHELF'] });
 */
export const subscribeQueue = async (topicArn: string, filterPolicy?: Record<string, unknown>): Promise<string> => {
  const sqs = createSqsClient();
  const sns = new SNSClient({});
  try {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `subscriber-${randomUUID().slice(0, 8)}` }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: Attributes!['QueueArn'],
        Attributes: { RawMessageDelivery: 'true', ...(filterPolicy ? { FilterPolicy: JSON.stringify(filterPolicy) } : {}) },
      }),
    );
    return QueueUrl!;
  } finally {
    sqs.destroy();
    sns.destroy();
  }
};

/** Every message the queue holds now (received and deleted), in the order received. */
export const drainQueue = async (queueUrl: string): Promise<Message[]> => {
  const sqs = createSqsClient();
  const drained: Message[] = [];
  try {
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
      );
      if (Messages.length === 0) return drained;
      drained.push(...Messages);
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
        }),
      );
    }
  } finally {
    sqs.destroy();
  }
};

/**
 * A received message's attributes as name -> string value (the SNS message attributes, delivered raw, are all strings).
 *
 * @example
 * const [message] = await drainQueue(queueUrl);
 * messageAttributesOf(message); // { change: 'request.status-changed', status: 'ON_HOLD_SHELF', … }
 */
export const messageAttributesOf = (message: Message): Record<string, string | undefined> =>
  Object.fromEntries(Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [name, value.StringValue]));

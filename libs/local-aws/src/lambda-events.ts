import { randomUUID } from 'node:crypto';
import type { SQSEvent, SQSRecord } from 'aws-lambda';

// The events Lambda's triggers hand a function, built the way AWS builds them, for tests and local runs.

/** A Lambda handler as a bundle exports it: what the local runs hand these events to. */
export type LambdaHandler = (event: unknown, context: Record<string, unknown>) => Promise<unknown>;

/**
 * An SNS notification event carrying `message`, shaped as SNS hands it to Lambda.
 *
 * @example
 * const event = snsEvent('arn:aws:sns:eu-west-1:000000000000:LOAN_CREATED', JSON.stringify(webhookBody));
 */
export const snsEvent = (topicArn: string, message: string) => ({
  Records: [
    {
      EventSource: 'aws:sns',
      EventVersion: '1.0',
      EventSubscriptionArn: `${topicArn}:${randomUUID()}`,
      Sns: {
        Type: 'Notification',
        MessageId: randomUUID(),
        TopicArn: topicArn,
        Subject: null,
        Message: message,
        Timestamp: new Date().toISOString(),
        SignatureVersion: '1',
        Signature: 'local',
        SigningCertUrl: 'local',
        UnsubscribeUrl: 'local',
        MessageAttributes: {},
      },
    },
  ],
});

/** What is known of an SQS message when it is handed to a function; the rest is made up as SQS would. */
export interface SqsMessageFields {
  messageId?: string;
  receiptHandle?: string;
  /** SQS's ApproximateReceiveCount: 1 on the first receive. */
  receiveCount?: number;
  /** Epoch milliseconds the message was sent. */
  sentTimestamp?: number;
  senderId?: string;
}

/**
 * An SQS record as Lambda's SQS poller hands it over.
 *
 * @example
 * const event = sqsEvent([sqsRecord('PAT0042X', 'arn:aws:sqs:eu-west-1:000000000000:alma-cache-stg-users')]);
 */
export const sqsRecord = (body: string, queueArn: string, fields: SqsMessageFields = {}): SQSRecord => ({
  messageId: fields.messageId ?? randomUUID(),
  receiptHandle: fields.receiptHandle ?? `receipt-${randomUUID()}`,
  body,
  attributes: {
    ApproximateReceiveCount: String(fields.receiveCount ?? 1),
    SentTimestamp: String(fields.sentTimestamp ?? Date.now()),
    SenderId: fields.senderId ?? 'AIDALOCAL',
    ApproximateFirstReceiveTimestamp: String(Date.now()),
  },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: queueArn,
  awsRegion: queueArn.split(':')[3] ?? '',
});

/** A batch of SQS records as one Lambda event. */
export const sqsEvent = (records: readonly SQSRecord[]): SQSEvent => ({ Records: [...records] });

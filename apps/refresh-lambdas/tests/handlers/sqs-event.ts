import { randomUUID } from 'node:crypto';
import type { SQSEvent, SQSRecord } from 'aws-lambda';

/** An SQS record as Lambda's poller hands it over; `receiveCount` is SQS's ApproximateReceiveCount. */
export const sqsRecord = (body: string, receiveCount = 1, queueArn = 'arn:aws:sqs:eu-west-1:000000000000:queue'): SQSRecord => ({
  messageId: randomUUID(),
  receiptHandle: `receipt-${randomUUID()}`,
  body,
  attributes: {
    ApproximateReceiveCount: String(receiveCount),
    SentTimestamp: String(Date.now()),
    SenderId: 'AIDATEST',
    ApproximateFirstReceiveTimestamp: String(Date.now()),
  },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: queueArn,
  awsRegion: 'eu-west-1',
});

export const sqsEvent = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { sqsEvent as eventOf, sqsRecord as recordOf } from '@alma-cache/local-aws';

const QUEUE_ARN = 'arn:aws:sqs:eu-west-1:000000000000:queue';

/** An SQS record as Lambda's poller hands it over; `receiveCount` is SQS's ApproximateReceiveCount. */
export const sqsRecord = (body: string, receiveCount = 1): SQSRecord => recordOf(body, QUEUE_ARN, { receiveCount });

export const sqsEvent = (...records: SQSRecord[]): SQSEvent => eventOf(records);

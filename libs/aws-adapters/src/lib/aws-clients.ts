import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SNSClient, type SNSClientConfig } from '@aws-sdk/client-sns';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { traced } from './tracing';

/**
 * A DynamoDB document client for the cache. Region, credentials and `AWS_ENDPOINT_URL(_DYNAMODB)` come from the
 * SDK's own environment variables, so the same code talks to AWS, LocalStack or DynamoDB Local. Traced (an X-Ray
 * subsegment per call) when tracing is on, as is every client these factories make.
 */
export const createDocumentClient = (config: DynamoDBClientConfig = {}): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(traced(new DynamoDBClient(config)), {
    marshallOptions: { removeUndefinedValues: true },
  });

/**
 * An SQS client that sends to the endpoint it is configured with rather than the host named in a queue URL:
 * emulators hand out queue URLs that name the real AWS host.
 */
export const createSqsClient = (config: SQSClientConfig = {}): SQSClient => traced(new SQSClient({ useQueueUrlAsEndpoint: false, ...config }));

/**
 * An SNS client (the webhook receiver's topics, the change topic), traced when tracing is on.
 *
 * @example
 * const publisher = new SnsChangePublisher(createSnsClient(), process.env.CHANGE_TOPIC_ARN!);
 */
export const createSnsClient = (config: SNSClientConfig = {}): SNSClient => traced(new SNSClient(config));

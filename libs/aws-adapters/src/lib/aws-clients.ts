import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';

/**
 * A DynamoDB document client for the cache. Region, credentials and `AWS_ENDPOINT_URL(_DYNAMODB)` come from the
 * SDK's own environment variables, so the same code talks to AWS, LocalStack or DynamoDB Local.
 */
export const createDocumentClient = (config: DynamoDBClientConfig = {}): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(new DynamoDBClient(config), {
    marshallOptions: { removeUndefinedValues: true },
  });

/**
 * An SQS client that sends to the endpoint it is configured with rather than the host named in a queue URL:
 * emulators hand out queue URLs that name the real AWS host.
 */
export const createSqsClient = (config: SQSClientConfig = {}): SQSClient =>
  new SQSClient({ useQueueUrlAsEndpoint: false, ...config });

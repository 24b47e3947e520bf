// The cold-start baseline for the bulk-refresh bundles: a bare handler that builds the SDK clients those bundles
// build (DynamoDB and its document client; SSM for the Alma key; SQS, which delays a message as Alma's Retry-After
// asks) at module scope, and nothing else.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const ssm = new SSMClient({});
const sqs = new SQSClient({});

/** Touches the clients so the bundler keeps them. */
export const handler = async (): Promise<string[]> => [typeof documentClient.send, typeof ssm.send, typeof sqs.send];

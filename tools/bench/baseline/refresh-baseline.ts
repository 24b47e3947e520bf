// The cold-start baseline for the bulk-refresh bundles: a bare handler that builds the SDK clients those bundles
// use (DynamoDB, its document client, SSM; they send nothing to SQS) at module scope, and nothing else.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const ssm = new SSMClient({});

/** Touches the clients so the bundler keeps them. */
export const handler = async (): Promise<string[]> => [typeof documentClient.send, typeof ssm.send];

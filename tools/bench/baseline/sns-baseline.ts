// The cold-start baseline for the cache-update bundles: a bare handler that builds the same SDK clients at module
// scope and does nothing else. Bundled by tools/scripts/bundle-lambdas.mjs exactly as the real functions are.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const sqs = new SQSClient({});

/** Touches the clients so the bundler keeps them. */
export const handler = async (): Promise<string[]> => [typeof documentClient.send, typeof sqs.send];

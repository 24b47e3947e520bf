// The cold-start floor of the bulk-refresh bundles: a bare handler that builds what those bundles build at module
// scope (DynamoDB and its document client; SSM for the Alma key; SQS, which delays a message as Alma's Retry-After
// asks; the Powertools logger and metrics), and nothing else.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
const ssm = new SSMClient({});
const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
const serviceName = process.env['POWERTOOLS_SERVICE_NAME'] ?? 'alma-cache-refresh';
const logger = new Logger({ serviceName });
const metrics = new Metrics({ namespace: 'AlmaCache', serviceName });

/** Touches what was built so the bundler keeps it. */
export const handler = async (): Promise<string[]> => [
  typeof documentClient.send,
  typeof ssm.send,
  typeof sqs.send,
  typeof logger.info,
  typeof metrics.addMetric,
];

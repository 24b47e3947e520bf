// The floor of the query API, for its cold start and its cache-hit latency: a bare handler that builds what the query
// API builds at module scope (DynamoDB and its document client, SQS for refresh requests, SSM for the Alma key and the
// log pepper, the Powertools logger and metrics) and answers `GET /users/{id}/loans/{loanId}` with exactly the reads a
// cache hit makes (DynamoDbCacheReader.readUser and readItem, in parallel: the patron's Users row and the loan, both
// eventually consistent GetItems by key). No access rule, no checks of the row or the record, no log line, no metrics:
// the least a handler could do for the same answer from the same design.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
const ssm = new SSMClient({});
const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
const serviceName = process.env['POWERTOOLS_SERVICE_NAME'] ?? 'alma-cache-query';
const logger = new Logger({ serviceName });
const metrics = new Metrics({ namespace: 'AlmaCache', serviceName });

// userCacheKey: ASCII letters lower-cased, nothing else changed.
const userKeyOf = (id: string) => id.replace(/[A-Z]/g, (letter) => letter.toLowerCase());

/** GET /users/{id}/loans/{loanId}: the patron's row and the loan, read at once; the loan as stored. */
export const handler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  const [user, loan] = await Promise.all([
    documentClient.send(
      new GetCommand({ TableName: process.env['USER_CACHE_TABLE_NAME'], Key: { primary_id: userKeyOf(event.pathParameters?.['id'] ?? '') } }),
    ),
    documentClient.send(new GetCommand({ TableName: process.env['LOAN_CACHE_TABLE_NAME'], Key: { loan_id: event.pathParameters?.['loanId'] } })),
  ]);
  if (user.Item && loan.Item) return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(loan.Item) };
  logger.warn('bench floor: not cached', { clients: [typeof ssm.send, typeof sqs.send], metrics: typeof metrics.addMetric });
  return { statusCode: 404, body: '{}' };
};

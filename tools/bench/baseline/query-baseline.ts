// The baseline of the query API, for its cold start and its cache-hit latency: a bare handler that builds the SDK
// clients the query API builds (DynamoDB and its document client, SQS for refresh requests, SSM for the Alma key
// and the log pepper) at module scope, and answers an API Gateway request with one GetItem of the loan it names.
// No checks, no log line, no metrics: the least a handler could do for the same answer.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
const ssm = new SSMClient({});
const sqs = new SQSClient({});

/** GET /users/{id}/loans/{loanId}: the loan, as stored. */
export const handler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  const { Item } = await documentClient.send(
    new GetCommand({ TableName: process.env['LOAN_CACHE_TABLE_NAME'], Key: { loan_id: event.pathParameters?.['loanId'] } }),
  );
  return Item
    ? { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(Item) }
    : { statusCode: 404, body: JSON.stringify({ clients: [typeof ssm.send, typeof sqs.send] }) };
};

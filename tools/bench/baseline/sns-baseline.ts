// The floor of the cache-update functions, for their cold start and their throughput: a bare handler that builds
// what they build at module scope (the DynamoDB document client, SQS for refresh requests, the Powertools logger and
// metrics) and, per queue message, issues exactly the two conditional writes the real functions issue for a cached
// patron (DynamoDbCacheStore.writeItem, then linkItem or unlinkItem: same tables, keys, attributes, conditions and
// return values), records of a batch in parallel as the shared batch handler runs them. What it leaves out is what a
// correct handler adds on top of the writes: validation, the domain's outcome, a log line and a metric per event,
// the container, partial-batch bookkeeping. Bundled by tools/scripts/bundle-lambdas.mjs exactly as the real functions are.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
const serviceName = process.env['POWERTOOLS_SERVICE_NAME'] ?? 'alma-cache-sns';
const logger = new Logger({ serviceName });
const metrics = new Metrics({ namespace: 'AlmaCache', serviceName });

const DAY = 86_400;
// Lifetimes of the default policy's order: the expiry attribute is a number of the same size whatever its value.
const ITEM_SECONDS = 365 * DAY;
const TOMBSTONE_SECONDS = 21 * DAY;
const REMOVALS = new Set(['LOAN_RETURNED', 'LOAN_LOST', 'REQUEST_CANCELED', 'REQUEST_CLOSED']);
const KINDS = {
  loan: {
    bodyKey: 'item_loan',
    idField: 'loan_id',
    userField: 'user_id',
    table: 'LOAN_CACHE_TABLE_NAME',
    ids: 'loan_ids',
    removed: 'removed_loan_ids',
  },
  request: {
    bodyKey: 'user_request',
    idField: 'request_id',
    userField: 'user_primary_id',
    table: 'REQUEST_CACHE_TABLE_NAME',
    ids: 'request_ids',
    removed: 'removed_request_ids',
  },
} as const;

// userCacheKey: ASCII letters lower-cased, nothing else changed.
const userKeyOf = (id: string) => id.replace(/[A-Z]/g, (letter) => letter.toLowerCase());

const applyOne = async (message: string): Promise<void> => {
  const body = JSON.parse(message) as Record<string, unknown> & { id: string; time: string; event: { value: string } };
  const eventType = body.event.value;
  const kind = KINDS[eventType.startsWith('LOAN_') ? 'loan' : 'request'];
  const item = body[kind.bodyKey] as Record<string, unknown>;
  const itemId = item[kind.idField] as string;
  const removal = REMOVALS.has(eventType);
  const eventTime = new Date(body.time).toISOString();
  const nowSeconds = Math.floor(Date.now() / 1000);
  try {
    await documentClient.send(
      new PutCommand({
        TableName: process.env[kind.table],
        Item: {
          ...item,
          [kind.idField]: itemId,
          alma_event_id: body.id,
          alma_event_type: eventType,
          alma_event_time: eventTime,
          expires_at: nowSeconds + (removal ? TOMBSTONE_SECONDS : ITEM_SECONDS),
          ...(removal ? { tombstone: true } : {}),
        },
        ConditionExpression: `(attribute_not_exists(#time) OR #time < :time OR (#time = :time AND ${removal ? '(#id = :id OR attribute_not_exists(#tombstone))' : '#id = :id'}))`,
        ExpressionAttributeNames: { '#time': 'alma_event_time', '#id': 'alma_event_id', ...(removal ? { '#tombstone': 'tombstone' } : {}) },
        ExpressionAttributeValues: { ':time': eventTime, ':id': body.id },
        ReturnValues: 'ALL_OLD',
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return;
    throw error;
  }
  await documentClient.send(
    new UpdateCommand({
      TableName: process.env['USER_CACHE_TABLE_NAME'],
      Key: { primary_id: userKeyOf(item[kind.userField] as string) },
      UpdateExpression: removal ? 'DELETE #ids :ids ADD #removed :ids, #version :one' : 'ADD #ids :ids, #version :one',
      ConditionExpression: removal ? 'attribute_exists(primary_id)' : 'attribute_exists(primary_id) AND NOT contains(#removed, :id)',
      ExpressionAttributeNames: { '#ids': kind.ids, '#removed': kind.removed, '#version': 'user_version' },
      ExpressionAttributeValues: removal ? { ':ids': new Set([itemId]), ':one': 1 } : { ':ids': new Set([itemId]), ':id': itemId, ':one': 1 },
      ...(removal ? {} : { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const }),
    }),
  );
};

/** A batch from the function's queue: every message's two writes, the messages in parallel; a failed one is reported. */
export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const results = await Promise.allSettled(event.Records.map((record) => applyOne(record.body)));
  const failed = event.Records.filter((_, i) => results[i].status === 'rejected');
  if (failed.length > 0)
    logger.error('bench floor: writes failed', { count: failed.length, sqs: typeof sqs.send, metrics: typeof metrics.addMetric });
  return { batchItemFailures: failed.map((record) => ({ itemIdentifier: record.messageId })) };
};

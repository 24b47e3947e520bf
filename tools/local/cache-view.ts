import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { userCacheKey } from '@alma-cache/cache-domain';
import { BatchGetCommand, type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';

type Item = Record<string, any>;

export interface CacheTables {
  users: string;
  loans: string;
  requests: string;
  fees?: string;
}

/** A patron's cache as the query side would see it: the User and the records its id sets point at. */
export const readPatron = async (client: DynamoDBDocumentClient, tables: CacheTables, primaryId: string) => {
  const key = userCacheKey(primaryId);
  const user = (await client.send(new GetCommand({ TableName: tables.users, Key: { primary_id: key } }))).Item;
  const fetch = async (table: string, keyName: string, ids: Set<string> | undefined): Promise<Item[]> => {
    if (!ids || ids.size === 0) return [];
    const result = await client.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: [...ids].map((id) => ({ [keyName]: id })) } } }));
    return result.Responses?.[table] ?? [];
  };
  return {
    key,
    user,
    loans: await fetch(tables.loans, 'loan_id', user?.['loan_ids']),
    requests: await fetch(tables.requests, 'request_id', user?.['request_ids']),
    fees: tables.fees ? await fetch(tables.fees, 'fee_id', user?.['fee_ids']) : [],
  };
};

export const getRecord = async (client: DynamoDBDocumentClient, table: string, key: Item): Promise<Item | undefined> =>
  (await client.send(new GetCommand({ TableName: table, Key: key }))).Item;

/** Reads messages without consuming them (visibility 0), so the demo can show a queue and leave it as it was. */
export const peekQueue = async (sqs: SQSClient, queueUrl: string): Promise<string[]> => {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0, WaitTimeSeconds: 0 }),
  );
  return Messages.map((message) => message.Body ?? '');
};

export const describeLoan = (loan: Item): string =>
  `loan ${loan['loan_id']} "${loan['title']}" ${loan['tombstone'] ? 'RETURNED (tombstone)' : `${loan['loan_status']}, due ${loan['due_date']}`} [${loan['alma_event_type']} @ ${loan['alma_event_time']}]`;

export const describeRequest = (request: Item): string =>
  `request ${request['request_id']} ${request['request_type']} "${request['title']}" ${request['tombstone'] ? `${request['alma_event_type'] === 'REQUEST_CANCELED' ? 'CANCELED' : 'CLOSED'} (tombstone)` : request['request_status']} [${request['alma_event_type']} @ ${request['alma_event_time']}]`;

export const describeFee = (fee: Item): string =>
  `fee ${fee['fee_id']} ${fee['type']?.['value'] ?? ''} balance ${fee['balance']} ${fee['status']?.['value'] ?? ''} [${fee['alma_event_type']} @ ${fee['alma_event_time']}]`;

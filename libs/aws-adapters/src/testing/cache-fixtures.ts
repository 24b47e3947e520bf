import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { createDocumentClient, createSqsClient } from '../lib/aws-clients';
import { ALMA_GUARD_ATTRIBUTES, type CacheTableNames, ITEM_TABLES, USER_KEY } from '../lib/table-schema';

/**
 * Fresh, uniquely named cache tables (for tests), keyed as the deploy declares them (the template test in
 * apps/sns-lambdas checks the deploy side of the same keys).
 */
export const createCacheTables = async (): Promise<Required<CacheTableNames>> => {
  const suffix = randomUUID().slice(0, 8);
  const tables: Required<CacheTableNames> = {
    users: `users-${suffix}`,
    loans: `loans-${suffix}`,
    requests: `requests-${suffix}`,
    fees: `fees-${suffix}`,
    refreshClaims: `refresh-claims-${suffix}`,
  };
  const keys: Record<keyof CacheTableNames, string> = {
    users: USER_KEY,
    loans: ITEM_TABLES.loan.keyAttribute,
    requests: ITEM_TABLES.request.keyAttribute,
    fees: ITEM_TABLES.fee.keyAttribute,
    refreshClaims: USER_KEY,
  };
  const client = new DynamoDBClient({});
  for (const role of Object.keys(tables) as (keyof CacheTableNames)[]) {
    await client.send(
      new CreateTableCommand({
        TableName: tables[role],
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: keys[role], KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: keys[role], AttributeType: 'S' }],
      }),
    );
  }
  client.destroy();
  return tables;
};

/**
 * A fresh, uniquely named Alma guard table (the budget's counters and the negative cache), keyed as the deploy
 * declares it.
 */
export const createAlmaGuardTable = async (): Promise<string> => {
  const name = `alma-guard-${randomUUID().slice(0, 8)}`;
  const client = new DynamoDBClient({});
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: ALMA_GUARD_ATTRIBUTES.key, KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: ALMA_GUARD_ATTRIBUTES.key, AttributeType: 'S' }],
    }),
  );
  client.destroy();
  return name;
};

export const createQueue = async (name = `users-${randomUUID().slice(0, 8)}`): Promise<string> => {
  const sqs = createSqsClient();
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  sqs.destroy();
  return QueueUrl!;
};

export interface CountedRequest {
  command: string;
  table?: string;
  writeUnits?: number;
  readUnits?: number;
}

/**
 * A document client that records every request it sends and the capacity DynamoDB says each consumed
 * (it asks for ReturnConsumedCapacity on every call; production code does not).
 */
export const countingDocumentClient = () => {
  const requests: CountedRequest[] = [];
  const client = createDocumentClient();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      input['ReturnConsumedCapacity'] = 'TOTAL';
      const entry: CountedRequest = { command: context.commandName ?? 'unknown', table: input['TableName'] as string };
      requests.push(entry);
      try {
        const result = await next(args);
        const consumed = (result.output as { ConsumedCapacity?: { WriteCapacityUnits?: number; ReadCapacityUnits?: number; CapacityUnits?: number } })
          .ConsumedCapacity;
        entry.writeUnits = consumed?.WriteCapacityUnits ?? consumed?.CapacityUnits;
        entry.readUnits = consumed?.ReadCapacityUnits;
        return result;
      } catch (error) {
        const consumed = (error as { ConsumedCapacity?: { CapacityUnits?: number; WriteCapacityUnits?: number } }).ConsumedCapacity;
        entry.writeUnits = consumed?.WriteCapacityUnits ?? consumed?.CapacityUnits;
        throw error;
      }
    },
    { step: 'initialize', name: 'countRequests' },
  );
  return { client, requests };
};

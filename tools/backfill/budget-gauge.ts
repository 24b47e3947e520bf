import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';

/**
 * How busy the stage's Alma budget is, read without taking a call: the backfill itself calls Alma only for list
 * pages, so taking a call just to look would spend the very share it means to leave free. Reads the per-second call
 * counter of the last whole second on the Alma guard table (`calls/<epoch second>`, written by every function's
 * budget) and answers the milliseconds to wait: until the next second when that second used `busyAt` calls or more,
 * else 0.
 *
 * @example
 * const busy = budgetGauge(client, 'alma-cache-stg-alma-guard', 10);
 * await busy(); // 0, or e.g. 430 when the last second was full
 */
export const budgetGauge =
  (client: DynamoDBDocumentClient, guardTable: string, busyAt: number, now: () => number = Date.now): (() => Promise<number>) =>
  async () => {
    const at = now();
    const second = Math.floor(at / 1000) - 1;
    const { Item } = await client.send(new GetCommand({ TableName: guardTable, Key: { guard_key: `calls/${second}` }, ConsistentRead: true }));
    const calls = typeof Item?.['calls'] === 'number' ? Item['calls'] : 0;
    return calls >= busyAt ? (second + 2) * 1000 - at : 0;
  };

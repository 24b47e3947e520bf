import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CacheTableNames } from '@alma-cache/aws-adapters';
import type { CacheTruth, ItemTruth, PatronTruth } from './truth-model';

/** Every item of a table, following scan pages. */
export const scanAll = async (client: DynamoDBDocumentClient, table: string): Promise<Record<string, unknown>[]> => {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
};

const sorted = (value: unknown): string[] => [...((value as Set<string> | undefined) ?? [])].sort();

/** The cache as the truth model describes it: the same shape, read from the tables. */
export const readCache = async (client: DynamoDBDocumentClient, tables: CacheTableNames) => {
  const asItems = (records: Record<string, unknown>[], key: string, ownerField: string, stateField: string) =>
    new Map<string, ItemTruth>(
      records.map((record) => [
        record[key] as string,
        {
          owner: record[ownerField] as string,
          eventId: record['alma_event_id'] as string,
          eventType: record['alma_event_type'] as string,
          eventTime: record['alma_event_time'] as string,
          tombstone: record['tombstone'] === true,
          state: record[stateField] as string,
        },
      ]),
    );
  const users = await scanAll(client, tables.users);
  const patrons = new Map<string, PatronTruth & { raw: Record<string, unknown> }>(
    users.map((user) => [
      user['primary_id'] as string,
      {
        loanIds: sorted(user['loan_ids']),
        removedLoanIds: sorted(user['removed_loan_ids']),
        requestIds: sorted(user['request_ids']),
        removedRequestIds: sorted(user['removed_request_ids']),
        raw: user,
      },
    ]),
  );
  return {
    loans: asItems(await scanAll(client, tables.loans), 'loan_id', 'user_id', 'due_date'),
    requests: asItems(await scanAll(client, tables.requests), 'request_id', 'user_primary_id', 'request_status'),
    patrons,
  };
};

export type CacheState = Awaited<ReturnType<typeof readCache>>;

/**
 * Every way the cache differs from the truth, one line each (empty when they are equal): items missing, extra or
 * different, patrons missing, extra (a User created for an unknown patron) or with different id sets.
 */
export const differences = (truth: CacheTruth, cache: CacheState): string[] => {
  const lines: string[] = [];
  const compare = <T>(what: string, expected: ReadonlyMap<string, T>, actual: ReadonlyMap<string, T>, pick: (value: T) => unknown) => {
    for (const [id, want] of expected) {
      const got = actual.get(id);
      if (got === undefined) lines.push(`${what} ${id}: missing`);
      else if (JSON.stringify(pick(got)) !== JSON.stringify(pick(want)))
        lines.push(`${what} ${id}: expected ${JSON.stringify(pick(want))}, got ${JSON.stringify(pick(got))}`);
    }
    for (const id of actual.keys()) if (!expected.has(id)) lines.push(`${what} ${id}: not expected`);
  };
  compare('loan', truth.loans, cache.loans, (item) => item);
  compare('request', truth.requests, cache.requests, (item) => item);
  compare(
    'patron',
    truth.patrons,
    cache.patrons as ReadonlyMap<string, PatronTruth>,
    ({ loanIds, removedLoanIds, requestIds, removedRequestIds }) => ({
      loanIds,
      removedLoanIds,
      requestIds,
      removedRequestIds,
    }),
  );
  return lines;
};

/** Counts for the `[measured]` lines. */
export const cacheCounts = (cache: CacheState) => {
  const count = (items: ReadonlyMap<string, ItemTruth>, tombstone: boolean) =>
    [...items.values()].filter((item) => item.tombstone === tombstone).length;
  return {
    liveLoans: count(cache.loans, false),
    loanTombstones: count(cache.loans, true),
    liveRequests: count(cache.requests, false),
    requestTombstones: count(cache.requests, true),
  };
};

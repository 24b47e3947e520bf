// The drift audit end to end on the emulators: the audit function's real container (DynamoDB Local tables, the API key
// and the log pepper in moto's SSM, the stage budget on the Alma guard table) against Alma played by the fake server
// over loopback HTTP. 100 patrons are cached by the real refresh, 7 are tampered with in 7 different ways, one has a
// webhook in flight; Alma calls are counted at the fake server, not inside the client.
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { DeleteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import { almaBudgetShares, DEFAULT_EXPIRY_POLICY, RefreshUser } from '@alma-cache/cache-domain';
import { createDocumentClient, createSsmClient, DynamoDbCacheStore } from '@alma-cache/aws-adapters';
import { createAlmaGuardTable, createCacheTables } from '@alma-cache/aws-adapters/testing';
import { AlmaHttpApi } from '@alma-cache/alma-api';
import { type FakeAlmaServer, fakeRecordId, generatePatron, startFakeAlmaServer } from '@alma-cache/alma-api/testing';
import { auditPatronHash } from '../../src/audit-report';
import type { AuditRunner } from '../../src/audit-runner';
import { buildAuditContainer, TOKENS } from '../../src/composition-root';

jest.setTimeout(180_000);

const PATRONS = Array.from({ length: 100 }, (_, index) => `AUD${String(index).padStart(3, '0')}X`);
const CALLS_PER_SECOND = 20;
const PEPPER = 'pepper-of-the-audit-test';

describe('Integration: the drift audit on the emulators with a fake Alma', () => {
  const client = createDocumentClient();
  let alma: FakeAlmaServer;
  let tables: Awaited<ReturnType<typeof createCacheTables>>;
  let runner: AuditRunner;
  let warnings: { message: string; fields: Record<string, unknown> }[];

  const loanId = (patron: string, index = 0) => fakeRecordId(patron, 'loan', index);
  const item = async (table: string, key: Record<string, string>) =>
    (await client.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
  const userRow = (patron: string) => item(tables.users, { primary_id: patron.toLowerCase() });

  beforeAll(async () => {
    alma = await startFakeAlmaServer();
    tables = await createCacheTables();
    const guardTable = await createAlmaGuardTable();
    const keyName = `/alma-cache/test/${tables.users}/alma-api-key`;
    const pepperName = `/alma-cache/test/${tables.users}/query-log-pepper`;
    const ssm = createSsmClient();
    await ssm.send(new PutParameterCommand({ Name: keyName, Type: 'SecureString', Value: alma.apiKey }));
    await ssm.send(new PutParameterCommand({ Name: pepperName, Type: 'SecureString', Value: PEPPER }));
    ssm.destroy();

    // 100 patrons with 1 to 4 loans, 0 to 2 requests and 0 or 1 fee, cached by the real refresh an hour ago (its
    // records are dated then, outside the audit's grace).
    for (const [index, patron] of PATRONS.entries()) {
      alma.seedPatron(generatePatron(patron, { loans: 1 + (index % 4), requests: index % 3, fees: index % 2 }));
    }
    const anHourAgo = { now: () => new Date(Date.now() - 3_600_000) };
    const refresh = new RefreshUser({
      store: new DynamoDbCacheStore(client, tables),
      alma: new AlmaHttpApi({ baseUrl: alma.url, apiKey: async () => alma.apiKey }),
      clock: anHourAgo,
      expiry: DEFAULT_EXPIRY_POLICY,
    });
    for (const patron of PATRONS) await refresh.execute(patron);

    const container = buildAuditContainer({
      USER_CACHE_TABLE_NAME: tables.users,
      LOAN_CACHE_TABLE_NAME: tables.loans,
      REQUEST_CACHE_TABLE_NAME: tables.requests,
      FEE_CACHE_TABLE_NAME: tables.fees,
      ALMA_API_BASE_URL: alma.url,
      ALMA_API_KEY_NAME: keyName,
      ALMA_GUARD_TABLE_NAME: guardTable,
      ALMA_CALLS_PER_SECOND: String(CALLS_PER_SECOND),
      AUDIT_LOG_PEPPER_NAME: pepperName,
    });
    const logger = container.get<Logger>(TOKENS.Logger);
    logger.setLogLevel('ERROR');
    warnings = [];
    jest.spyOn(logger, 'warn').mockImplementation((message: unknown, ...extra: unknown[]) => {
      warnings.push({ message: String(message), fields: Object.assign({}, ...(extra as Record<string, unknown>[])) });
    });
    runner = container.get<AuditRunner>(TOKENS.AuditRunner);
  });

  afterAll(async () => {
    client.destroy();
    await alma.close();
  });

  it('reports exactly the 7 tampered patrons, repairs them, does not count the webhook in flight, and then reports 0', async () => {
    // Prepare: 7 patrons tampered with, each in its own way.
    const TAMPERED = ['AUD001X', 'AUD002X', 'AUD003X', 'AUD004X', 'AUD005X', 'AUD006X', 'AUD007X'];
    const set = (table: string, key: Record<string, string>, field: string, value: unknown) =>
      client.send(
        new UpdateCommand({
          TableName: table,
          Key: key,
          UpdateExpression: 'SET #f = :v',
          ExpressionAttributeNames: { '#f': field },
          ExpressionAttributeValues: { ':v': value },
        }),
      );
    // 1. a loan deleted from the Loans table (its id still linked);
    await client.send(new DeleteCommand({ TableName: tables.loans, Key: { loan_id: loanId('AUD001X') } }));
    // 2. a due date changed in the cache;
    await set(tables.loans, { loan_id: loanId('AUD002X') }, 'due_date', '2027-01-31T23:59:00Z');
    // 3. a loan returned in Alma whose LOAN_RETURNED never arrived (the cache still shows it);
    alma.patron('AUD003X')!.loans.splice(0, 1);
    // 4. a request's status changed in the cache;
    await set(tables.requests, { request_id: fakeRecordId('AUD004X', 'request', 0) }, 'request_status', 'IN_PROCESS');
    // 5. a fee's balance changed in the cache;
    await set(tables.fees, { fee_id: fakeRecordId('AUD005X', 'fee', 0) }, 'balance', 99);
    // 6. a patron's id set missing a record;
    await client.send(
      new UpdateCommand({
        TableName: tables.users,
        Key: { primary_id: 'aud006x' },
        UpdateExpression: 'DELETE loan_ids :id',
        ExpressionAttributeValues: { ':id': new Set([loanId('AUD006X', 1)]) },
      }),
    );
    // 7. another patron's loan linked to this one.
    await client.send(
      new UpdateCommand({
        TableName: tables.users,
        Key: { primary_id: 'aud007x' },
        UpdateExpression: 'ADD loan_ids :id',
        ExpressionAttributeValues: { ':id': new Set([loanId('AUD050X')]) },
      }),
    );
    // And a webhook in flight: Alma renewed AUD008X's loan a minute ago; its LOAN_RENEWED has not reached the cache.
    Object.assign(alma.patron('AUD008X')!.loans[0], {
      due_date: '2027-02-28T23:59:00Z',
      last_renew_date: new Date(Date.now() - 60_000).toISOString(),
    });
    alma.resetCalls();

    // Act
    const first = await runner.run({ sample: 500 }, { repair: true });
    const firstCalls = alma.calls.length;
    const firstWarnings = [...warnings];
    const second = await runner.run({ sample: 500 }, { repair: false });

    // Assess: exactly the 7, by kind and field, all repaired; the one in flight not counted.
    expect(first.totals).toMatchObject({
      audited: 100,
      drifted: 7,
      repaired: 7,
      inFlight: 1,
      missing: { loan: 2, request: 0, fee: 0 },
      extra: { loan: 2, request: 0, fee: 0 },
      different: { loan: { due_date: 1 }, request: { request_status: 1 }, fee: { balance: 1 } },
    });
    expect(first.drifted.map((audit) => audit.userKey).sort()).toEqual(TAMPERED.map((id) => id.toLowerCase()));
    expect(first.drifted.flatMap((audit) => audit.drifts.map((drift) => `${audit.userKey} ${drift.drift} ${drift.reason}`)).sort()).toEqual([
      'aud001x missing not-cached',
      'aud002x different fields',
      'aud003x extra not-listed',
      'aud004x different fields',
      'aud005x different fields',
      'aud006x missing not-linked',
      'aud007x extra another-patron',
    ]);
    // The second audit: nothing left, and the renewal still within its grace.
    expect(second.totals).toMatchObject({
      audited: 100,
      drifted: 0,
      repaired: 0,
      inFlight: 1,
      missing: { loan: 0, request: 0, fee: 0 },
      extra: { loan: 0, request: 0, fee: 0 },
    });
    expect(second.totals.different).toEqual({ loan: {}, request: {}, fee: {} });

    // The repairs, as the one write rule left them.
    expect((await item(tables.loans, { loan_id: loanId('AUD001X') }))?.['due_date']).toEqual(expect.any(String));
    expect((await item(tables.loans, { loan_id: loanId('AUD002X') }))?.['due_date']).toBe(alma.patron('AUD002X')!.loans[0]['due_date']);
    expect((await item(tables.loans, { loan_id: loanId('AUD003X') }))?.['tombstone']).toBe(true);
    expect((await userRow('AUD003X'))?.['loan_ids'].has(loanId('AUD003X'))).toBe(false);
    expect((await item(tables.requests, { request_id: fakeRecordId('AUD004X', 'request', 0) }))?.['request_status']).toBe('NOT_STARTED');
    expect((await item(tables.fees, { fee_id: fakeRecordId('AUD005X', 'fee', 0) }))?.['balance']).toBe(alma.patron('AUD005X')!.fees[0]['balance']);
    expect((await userRow('AUD006X'))?.['loan_ids'].has(loanId('AUD006X', 1))).toBe(true);
    expect((await userRow('AUD007X'))?.['loan_ids'].has(loanId('AUD050X'))).toBe(false);
    // AUD050X's loan is still theirs and live: unlinking it from AUD007X removed nothing.
    expect((await item(tables.loans, { loan_id: loanId('AUD050X') }))?.['tombstone']).toBeUndefined();
    expect((await userRow('AUD050X'))?.['loan_ids'].has(loanId('AUD050X'))).toBe(true);
    // The renewal in flight was left for its webhook: the cache still has the old due date.
    expect((await item(tables.loans, { loan_id: loanId('AUD008X') }))?.['due_date']).not.toBe('2027-02-28T23:59:00Z');

    // Alma calls: three per patron per run (every list fits one page), the repairs none of their own, counted alike by
    // the client's meter and at the fake server, and never more than the budget's refresh share in any second (the
    // audit is background work: the query misses' share is left to live traffic).
    expect(firstCalls).toBe(300);
    expect(first.almaCalls).toBe(300);
    expect(second.almaCalls).toBe(300);
    expect(maxCallsInAnySecond(alma.calls.map((call) => call.receivedAt))).toBeLessThanOrEqual(almaBudgetShares(CALLS_PER_SECOND).refresh);

    // One log line per drifted patron: the hashed id and what differed, no patron id, record id or title in clear.
    expect(firstWarnings.filter((line) => line.message === 'Cache drifted from Alma')).toHaveLength(7);
    const lines = firstWarnings.map((line) => JSON.stringify(line.fields));
    expect(firstWarnings.map((line) => line.fields['patron']).sort()).toEqual(TAMPERED.map((id) => auditPatronHash(PEPPER, id)).sort());
    for (const patron of TAMPERED) expect(lines.join('\n').toLowerCase()).not.toContain(patron.toLowerCase());
    for (const id of [loanId('AUD001X'), loanId('AUD050X'), fakeRecordId('AUD005X', 'fee', 0)]) expect(lines.join('\n')).not.toContain(id);
    expect(lines.join('\n')).not.toContain(String(alma.patron('AUD002X')!.loans[0]['title']));
    expect(firstWarnings.find((line) => line.fields['patron'] === auditPatronHash(PEPPER, 'AUD002X'))?.fields).toMatchObject({
      result: 'drifted',
      repaired: true,
      records: { 'loan.different.fields': 1 },
      fields: { loan: ['due_date'] },
    });
    process.stdout.write(
      `[measured] drift audit of 100 patrons (7 tampered, 1 webhook in flight): drifted ${first.totals.drifted}, repaired ${first.totals.repaired}, ` +
        `in flight ${first.totals.inFlight}, ${first.almaCalls} Alma calls in ${first.ms} ms; second audit: drifted ${second.totals.drifted}, ${second.almaCalls} Alma calls in ${second.ms} ms\n`,
    );
  });
});

/** The most timestamps (ms) that fall within any one second. */
const maxCallsInAnySecond = (times: readonly number[]): number => {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let start = 0, end = 0; end < sorted.length; end++) {
    while (sorted[end] - sorted[start] >= 1000) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
};

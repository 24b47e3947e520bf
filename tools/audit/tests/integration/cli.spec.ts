// `npm run audit` on the emulators: the app's real audit container, built from a function environment naming this
// test's DynamoDB Local tables, moto's SSM and a fake Alma on loopback.
import { Writable } from 'node:stream';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_EXPIRY_POLICY, RefreshUser } from '@alma-cache/cache-domain';
import { createDocumentClient, createSsmClient, DynamoDbCacheStore } from '@alma-cache/aws-adapters';
import { createAlmaGuardTable, createCacheTables } from '@alma-cache/aws-adapters/testing';
import { AlmaHttpApi } from '@alma-cache/alma-api';
import { type FakeAlmaServer, fakeRecordId, generatePatron, startFakeAlmaServer } from '@alma-cache/alma-api/testing';
import { runAuditCli } from '../../cli';

jest.setTimeout(120_000);

const sink = () => {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
};

describe('Integration: npm run audit on the emulators', () => {
  const client = createDocumentClient();
  let alma: FakeAlmaServer;
  let tables: Awaited<ReturnType<typeof createCacheTables>>;
  let environment: Record<string, string>;

  const snapshot = async () =>
    Promise.all(
      Object.values(tables).map(async (table) =>
        ((await client.send(new ScanCommand({ TableName: table, ConsistentRead: true }))).Items ?? [])
          .map((item) => JSON.stringify(item, (_, value) => (value instanceof Set ? [...value].sort() : value)))
          .sort(),
      ),
    );
  const audit = async (...argv: string[]) => {
    const stdout = sink();
    const stderr = sink();
    const code = await runAuditCli(argv, { stdout: stdout.stream, stderr: stderr.stream, functionEnvironment: async () => environment });
    return { code, out: stdout.text(), err: stderr.text() };
  };

  beforeAll(async () => {
    process.env['POWERTOOLS_LOG_LEVEL'] = 'ERROR';
    alma = await startFakeAlmaServer();
    tables = await createCacheTables();
    const guardTable = await createAlmaGuardTable();
    const keyName = `/alma-cache/test/${tables.users}/alma-api-key`;
    const pepperName = `/alma-cache/test/${tables.users}/query-log-pepper`;
    const ssm = createSsmClient();
    await ssm.send(new PutParameterCommand({ Name: keyName, Type: 'SecureString', Value: alma.apiKey }));
    await ssm.send(new PutParameterCommand({ Name: pepperName, Type: 'SecureString', Value: 'pepper' }));
    ssm.destroy();
    const refresh = new RefreshUser({
      store: new DynamoDbCacheStore(client, tables),
      alma: new AlmaHttpApi({ baseUrl: alma.url, apiKey: async () => alma.apiKey }),
      clock: { now: () => new Date(Date.now() - 3_600_000) },
      expiry: DEFAULT_EXPIRY_POLICY,
    });
    for (const patron of ['PAT0042X', 'PAT0001A', 'PAT0002B']) {
      alma.seedPatron(generatePatron(patron, { loans: 2, requests: 1, fees: 1 }));
      await refresh.execute(patron);
    }
    environment = {
      USER_CACHE_TABLE_NAME: tables.users,
      LOAN_CACHE_TABLE_NAME: tables.loans,
      REQUEST_CACHE_TABLE_NAME: tables.requests,
      FEE_CACHE_TABLE_NAME: tables.fees,
      ALMA_GUARD_TABLE_NAME: guardTable,
      ALMA_API_BASE_URL: alma.url,
      ALMA_API_KEY_NAME: keyName,
      AUDIT_LOG_PEPPER_NAME: pepperName,
    };
  });

  afterAll(async () => {
    client.destroy();
    await alma.close();
  });

  it('prints the differences of a patron and writes nothing, repairs with --repair, and then finds none', async () => {
    // Prepare: PAT0042X's first loan has a due date Alma does not, and Alma closed its request.
    const loan = fakeRecordId('PAT0042X', 'loan', 0);
    await client.send(
      new UpdateCommand({
        TableName: tables.loans,
        Key: { loan_id: loan },
        UpdateExpression: 'SET due_date = :d',
        ExpressionAttributeValues: { ':d': '2027-01-31T23:59:00Z' },
      }),
    );
    alma.patron('PAT0042X')!.requests.splice(0, 1);
    const before = await snapshot();
    alma.resetCalls();

    // Act
    const report = await audit('--stage', 'stg', '--patron', 'PAT0042X');
    const after = await snapshot();
    const repaired = await audit('--stage', 'stg', '--patron', 'pat0042x', '--repair');
    const again = await audit('--stage', 'stg', '--sample', '10');

    // Assess: the report, then the same repaired, then nothing left among all three patrons.
    expect(report.code).toBe(3);
    expect(report.out).toContain('stg: audited 1 patron, 1 drifted, 0 repaired, 0 in flight (not counted); 3 Alma calls in');
    expect(report.out).toMatch(new RegExp(`pat0042x\\s+loan\\s+${loan}\\s+different\\s+due_date`));
    expect(report.out).toMatch(new RegExp(`pat0042x\\s+request\\s+${fakeRecordId('PAT0042X', 'request', 0)}\\s+extra\\s+not-listed`));
    expect(report.out).toContain('nothing was written: run again with --repair');
    expect(after).toEqual(before);
    expect(repaired).toMatchObject({ code: 0 });
    expect(repaired.out).toContain('1 drifted, 1 repaired');
    expect(again.code).toBe(0);
    expect(again.out).toContain('stg: audited 3 patrons, 0 drifted, 0 repaired');
    expect(again.out).toContain('no differences');
    expect(alma.calls).toHaveLength(3 + 3 + 9);
    process.stdout.write(`[measured] npm run audit --patron (report):\n${report.out}`);
  });

  it('explains a wrong command line and does nothing', async () => {
    // Act
    const result = await audit('--stage', 'stg', '--sample', '5', '--patron', 'PAT0042X');

    // Assess
    expect(result.code).toBe(2);
    expect(result.err).toContain('--patron and --sample cannot be combined');
    expect(result.err).toContain('usage: npm run audit');
  });
});

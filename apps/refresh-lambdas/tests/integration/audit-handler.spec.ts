// The scheduled audit-cache handler on the emulators: its module-scope container built from the environment, as in
// Lambda, a run over a small cache with one drifted patron, and the metrics it publishes (EMF lines on stdout).
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_EXPIRY_POLICY, RefreshUser } from '@alma-cache/cache-domain';
import { createDocumentClient, createSsmClient, DynamoDbCacheStore } from '@alma-cache/aws-adapters';
import { createAlmaGuardTable, createCacheTables } from '@alma-cache/aws-adapters/testing';
import { AlmaHttpApi } from '@alma-cache/alma-api';
import { type FakeAlmaServer, fakeRecordId, generatePatron, startFakeAlmaServer } from '@alma-cache/alma-api/testing';

jest.setTimeout(120_000);

type Emf = Record<string, unknown> & { _aws?: { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] } };

describe('Integration: the audit-cache handler on its schedule', () => {
  const client = createDocumentClient();
  let alma: FakeAlmaServer;

  afterAll(async () => {
    client.destroy();
    await alma.close();
  });

  it('audits the sample, repairs the drifted patron, and publishes patrons audited and drifted, and records by kind and field', async () => {
    // Prepare: four patrons cached an hour ago; PAT0003C's fee balance changed in the cache.
    alma = await startFakeAlmaServer();
    const tables = await createCacheTables();
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
    for (const patron of ['PAT0001A', 'PAT0002B', 'PAT0003C', 'PAT0004D']) {
      alma.seedPatron(generatePatron(patron, { loans: 1, requests: 1, fees: 1 }));
      await refresh.execute(patron);
    }
    await client.send(
      new UpdateCommand({
        TableName: tables.fees,
        Key: { fee_id: fakeRecordId('PAT0003C', 'fee', 0) },
        UpdateExpression: 'SET balance = :b',
        ExpressionAttributeValues: { ':b': 42 },
      }),
    );
    Object.assign(process.env, {
      USER_CACHE_TABLE_NAME: tables.users,
      LOAN_CACHE_TABLE_NAME: tables.loans,
      REQUEST_CACHE_TABLE_NAME: tables.requests,
      FEE_CACHE_TABLE_NAME: tables.fees,
      ALMA_GUARD_TABLE_NAME: guardTable,
      ALMA_API_BASE_URL: alma.url,
      ALMA_API_KEY_NAME: keyName,
      AUDIT_LOG_PEPPER_NAME: pepperName,
      AUDIT_SAMPLE_SIZE: '10',
      POWERTOOLS_SERVICE_NAME: 'alma-cache-refresh',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    });
    const lines: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    });
    const writeErr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    });
    const log = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
    const info = jest.spyOn(console, 'info').mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
    const warn = jest.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));

    // Act
    let result: unknown;
    try {
      const { handler } = await import('../../src/handlers/audit-cache');
      result = await handler({ source: 'aws.events', 'detail-type': 'Scheduled Event' }, { getRemainingTimeInMillis: () => 900_000 });
    } finally {
      for (const spy of [write, writeErr, log, info, warn]) spy.mockRestore();
    }

    // Assess: the run, its log lines, and each metric with its dimensions.
    expect(result).toEqual({ audited: 4, drifted: 1, repaired: 1, inFlight: 0, almaCalls: 12 });
    const json = lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Emf];
      } catch {
        return [];
      }
    });
    const metric = (name: string, dimensions: Record<string, string> = {}) =>
      json
        .filter((doc) => doc._aws?.CloudWatchMetrics.some((set) => set.Metrics.some((m) => m.Name === name)))
        .filter((doc) => Object.entries(dimensions).every(([key, value]) => doc[key] === value))
        .map((doc) => doc[name]);
    expect(metric('AuditedPatrons')).toEqual([4]);
    expect(metric('DriftedPatrons')).toEqual([1]);
    expect(metric('RepairedPatrons')).toEqual([1]);
    expect(metric('AuditAlmaCalls')).toEqual([12]);
    expect(metric('DriftRecordsDifferent', { kind: 'fee', field: 'balance' })).toEqual([1]);
    expect(metric('DriftRecordsMissing', { kind: 'loan' })).toEqual([0]);
    expect(metric('DriftRecordsExtra', { kind: 'request' })).toEqual([0]);
    expect(json.filter((doc) => doc['message'] === 'Cache drifted from Alma').map((doc) => doc['records'])).toEqual([{ 'fee.different.fields': 1 }]);
    expect(json.find((doc) => doc['message'] === 'Drift audit done')).toMatchObject({ audited: 4, drifted: 1, repaired: 1, almaCalls: 12 });
    expect(lines.join('\n')).not.toMatch(/pat0003c/i);
  });
});

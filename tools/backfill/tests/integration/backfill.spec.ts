import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_EXPIRY_POLICY, GetPatron, RefreshUser, systemClock, type RefreshDeps } from '@alma-cache/cache-domain';
import { AlmaHttpApi } from '@alma-cache/alma-api';
import { type FakeAlmaServer, generatePatron, startFakeAlmaServer } from '@alma-cache/alma-api/testing';
import {
  type CacheTableNames,
  createDocumentClient,
  createSqsClient,
  createSsmClient,
  DynamoDbAlmaCallBudget,
  DynamoDbBackfillProgress,
  DynamoDbCacheReader,
  DynamoDbCacheStore,
  DynamoDbUnknownPatrons,
  SqsUserRefreshQueue,
} from '@alma-cache/aws-adapters';
import { createAlmaGuardTable, createCacheTables, createQueue } from '@alma-cache/aws-adapters/testing';
import type { BackfillProgressReport } from '../../backfill';
import { runBackfillCli } from '../../cli';
import { paceOf } from '../../plan';
import { maxInSlidingSecond } from '@alma-cache/cache-domain/testing';

/**
 * A high local budget (400 calls/s: its refresh share is 120, the backfill's default half of that 60 calls/s, so 20
 * patrons/s), so that 500 patrons take about 25 s per case on the emulators; the pace, the claim and the resume are
 * what is tested, and they do not depend on the number.
 */
const BUDGET = 400;
const PATRONS = 500;
/** Where the first session is stopped: about 40 % of the list. */
const STOP_AT = 200;
const OTHER = 'MISS-PATRON-01';

const ids = Array.from({ length: PATRONS }, (_, i) => `BF${String(i).padStart(4, '0')}`);

/** The real patron path of a call, decoded: `/almaws/v1/users/BF0001/loans` → `BF0001`. */
const patronOf = (path: string): string | undefined => /^\/almaws\/v1\/users\/([^/]+)\/(?:loans|requests|fees)$/.exec(path)?.[1];

// The whole warm-up on the emulators: the CLI as an operator runs it (dry run, --yes, Ctrl-C at about 40 %, the same
// command again), the bulk refresh's RefreshUser consuming the Users queue in-process as update-user would (two
// pollers, batches of 10, each with its Alma client on the stage budget), and a query miss for another patron
// answered through GetPatron while the backfill runs.
describe('Command: npm run backfill (emulators, fake Alma with 500 patrons)', () => {
  jest.setTimeout(150_000);
  const client = createDocumentClient();
  const sqs = createSqsClient();
  const ssm = createSsmClient();
  let alma: FakeAlmaServer;
  let dir: string;

  beforeAll(async () => {
    alma = await startFakeAlmaServer();
    for (const id of ids) alma.seedPatron(generatePatron(id, { loans: 1 }));
    alma.seedPatron(generatePatron(OTHER, { loans: 2, requests: 1 }));
    dir = mkdtempSync(join(tmpdir(), 'backfill-'));
  });

  afterAll(async () => {
    client.destroy();
    sqs.destroy();
    ssm.destroy();
    await alma?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A stage of its own: tables, guard table, Users queue, the Alma key in SSM. */
  const newStage = async () => {
    const stage = `bf${randomUUID()
      .slice(0, 6)
      .replace(/[^a-z0-9]/g, 'x')}`;
    const tables: Required<CacheTableNames> = await createCacheTables();
    const guardTable = await createAlmaGuardTable();
    const usersQueueUrl = await createQueue();
    await ssm.send(new PutParameterCommand({ Name: `/alma-cache/${stage}/alma-api-key`, Value: alma.apiKey, Type: 'SecureString', Overwrite: true }));
    return { stage, tables, guardTable, usersQueueUrl };
  };

  /** `update-user`'s use case over the Users queue: two pollers, as the function's reserved concurrency of 2. */
  const startRefresh = (resources: Awaited<ReturnType<typeof newStage>>) => {
    const runs = new Map<string, number>();
    let stopped = false;
    const refreshDeps = (): RefreshDeps => ({
      store: new DynamoDbCacheStore(client, resources.tables),
      alma: new AlmaHttpApi({
        baseUrl: alma.url,
        apiKey: async () => alma.apiKey,
        budget: new DynamoDbAlmaCallBudget(client, resources.guardTable, { callsPerSecond: BUDGET, share: 'refresh' }),
        maxConcurrentRequests: 4,
      }),
      clock: systemClock,
      expiry: DEFAULT_EXPIRY_POLICY,
      unknownPatrons: new DynamoDbUnknownPatrons(client, resources.guardTable),
    });
    const poller = async () => {
      const refresh = new RefreshUser(refreshDeps());
      while (!stopped) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: resources.usersQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60 }),
        );
        await Promise.all(
          Messages.map(async (message) => {
            runs.set(message.Body!, (runs.get(message.Body!) ?? 0) + 1);
            await refresh.execute(message.Body!);
            await sqs.send(new DeleteMessageCommand({ QueueUrl: resources.usersQueueUrl, ReceiptHandle: message.ReceiptHandle }));
          }),
        );
      }
    };
    const pollers = [poller(), poller()];
    return {
      runs,
      refreshDeps,
      stop: async () => {
        stopped = true;
        await Promise.all(pollers);
      },
    };
  };

  /** Patrons whose Users row is complete (has refreshed_at). */
  const completeUsers = async (usersTable: string): Promise<Set<string>> => {
    const keys = new Set<string>();
    let start: Record<string, unknown> | undefined;
    do {
      const page = await client.send(new ScanCommand({ TableName: usersTable, ExclusiveStartKey: start, ConsistentRead: true }));
      for (const item of page.Items ?? []) if (typeof item['refreshed_at'] === 'string') keys.add(String(item['primary_id']));
      start = page.LastEvaluatedKey;
    } while (start);
    return keys;
  };

  const waitForComplete = async (usersTable: string, expected: number, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const complete = await completeUsers(usersTable);
      if (complete.size >= expected || Date.now() > deadline) return complete;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };

  const runCli = async (
    argv: string[],
    resources: Awaited<ReturnType<typeof newStage>>,
    hooks: { signal?: AbortSignal; onProgress?: (report: BackfillProgressReport) => void } = {},
  ) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runBackfillCli(argv, {
      stdout: { write: (chunk: string) => out.push(chunk) } as unknown as NodeJS.WritableStream,
      stderr: { write: (chunk: string) => err.push(chunk), isTTY: false } as unknown as NodeJS.WritableStream,
      resources,
      signal: hooks.signal,
      onProgress: hooks.onProgress,
    });
    return { code, out: out.join(''), err: err.join('') };
  };

  const scenario = async (list: string[]) => {
    // Prepare
    const resources = await newStage();
    const argv = [...list, '--stage', resources.stage, '--budget', String(BUDGET)];
    const refresh = startRefresh(resources);
    const almaCallsBefore = alma.calls.length;
    const started = Date.now();
    const abort = new AbortController();
    let miss: Promise<{ source: string; loans: number; ms: number; at: number }> | undefined;
    let run = '';
    // The query API's misses take from the query share, as its composition root wires them.
    const queryAlma = new AlmaHttpApi({
      baseUrl: alma.url,
      apiKey: async () => alma.apiKey,
      budget: new DynamoDbAlmaCallBudget(client, resources.guardTable, { callsPerSecond: BUDGET, share: 'query' }),
    });
    const query = new GetPatron({
      cache: new DynamoDbCacheReader(client, resources.tables),
      alma: queryAlma,
      refreshQueue: new SqsUserRefreshQueue(sqs, resources.usersQueueUrl),
      clock: systemClock,
      miss: {
        store: new DynamoDbCacheStore(client, resources.tables),
        unknownPatrons: new DynamoDbUnknownPatrons(client, resources.guardTable),
        refreshUser: new RefreshUser({ ...refresh.refreshDeps(), alma: queryAlma }),
        expiry: DEFAULT_EXPIRY_POLICY,
        newClaimant: () => randomUUID(),
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      },
    });

    // Act: the dry run, a session stopped at about 40 % (Ctrl-C), and the same command again
    const dry = await runCli(argv, resources);
    const first = await runCli([...argv, '--yes'], resources, {
      signal: abort.signal,
      onProgress: (report) => {
        run = report.run;
        // A reader asks for a patron the cache does not have, while the backfill is busy.
        if (report.position === 100 && !miss) {
          const asked = Date.now();
          miss = query.execute(OTHER).then((answer) => ({
            source: answer.source,
            loans: answer.value.records.loan.length,
            ms: Date.now() - asked,
            at: asked,
          }));
        }
        if (report.position >= STOP_AT) abort.abort();
      },
    });
    const stoppedAt = (await new DynamoDbBackfillProgress(client, resources.guardTable).read(run))?.position ?? -1;
    const second = await runCli([...argv, '--yes'], resources);
    const finishedAt = Date.now();
    const complete = await waitForComplete(resources.tables.users, PATRONS + 1);
    await refresh.stop();
    const answered = await miss;
    const calls = alma.calls.slice(almaCallsBefore);
    return {
      dry,
      first,
      second,
      stoppedAt,
      complete,
      answered,
      calls,
      runs: refresh.runs,
      seconds: (finishedAt - started) / 1000,
      started,
      finishedAt,
    };
  };

  const expectEveryPatronOnce = (result: Awaited<ReturnType<typeof scenario>>) => {
    const patronCalls = new Map<string, string[]>();
    for (const call of result.calls) {
      const patron = patronOf(call.path);
      if (patron) patronCalls.set(patron, [...(patronCalls.get(patron) ?? []), call.path.split('/').pop()!]);
    }
    // Each of the 500: rebuilt by exactly one refresh run, which made exactly its 3 calls (loans, requests, fees).
    expect(ids.filter((id) => result.runs.get(id) !== 1)).toEqual([]);
    expect(ids.filter((id) => patronCalls.get(id)?.sort().join() !== 'fees,loans,requests')).toEqual([]);
    expect(ids.filter((id) => !result.complete.has(id.toLowerCase()))).toEqual([]);
    // The reader's patron: rebuilt once, inline, by the query miss (not through the queue).
    expect(patronCalls.get(OTHER)?.sort().join()).toBe('fees,loans,requests');
    expect(result.runs.has(OTHER)).toBe(false);
    expect(result.answered).toMatchObject({ source: 'alma', loans: 2 });
    expect(result.answered!.at).toBeGreaterThan(result.started);
    expect(result.answered!.at).toBeLessThan(result.finishedAt);
    // The stage's budget, in every sliding second of the whole run; and the backfill's own pace (half the refresh
    // share: 60 calls/s) plus the miss's 3 calls, which is what the backfill leaves to everyone else.
    const busiest = maxInSlidingSecond(result.calls.map((call) => call.receivedAt));
    expect(busiest).toBeLessThanOrEqual(BUDGET);
    expect(busiest).toBeLessThanOrEqual(paceOf(BUDGET, 0.5, 3).callsPerSecond + 3);
  };

  it('fills the stage from a file of ids: interrupted at 40 % and resumed, every patron cached exactly once', async () => {
    // Prepare
    const file = join(dir, 'ids.txt');
    writeFileSync(file, `${ids.join('\r\n')}\r\n`);

    // Act
    const result = await scenario(['--file', file]);

    // Assess
    expect(result.dry.code).toBe(0);
    expect(result.dry.out).toContain(`${PATRONS} patrons from ${file}`);
    expect(result.dry.out).toContain('Alma calls: at most 1,500 (3 per patron rebuilt)');
    expect(result.dry.out).toContain('dry run: nothing was sent');
    expect([result.first.code, result.second.code]).toEqual([2, 0]);
    expect(result.stoppedAt).toBeGreaterThanOrEqual(STOP_AT);
    expect(result.stoppedAt).toBeLessThan(STOP_AT + 5);
    expect(result.first.out).toContain(`stopped at ${result.stoppedAt}/${PATRONS}`);
    expect(result.second.out).toContain(`finished ${PATRONS}/${PATRONS} (all sessions: queued ${PATRONS})`);
    expectEveryPatronOnce(result);
    // Alma calls = the refresh's 3 per patron, and the miss's 3: nothing else.
    expect(result.calls).toHaveLength(PATRONS * 3 + 3);
    process.stderr.write(
      `backfill --file: ${PATRONS} patrons, stopped at ${result.stoppedAt} and resumed; ${result.calls.length} Alma calls; ` +
        `${result.seconds.toFixed(1)} s; busiest sliding second ${maxInSlidingSecond(result.calls.map((call) => call.receivedAt))} calls ` +
        `(budget ${BUDGET}); query miss answered in ${result.answered?.ms} ms\n${result.first.out}${result.second.out}`,
    );
  });

  it("fills the stage from Alma's users list, adding only its pages of 100 to the Alma calls", async () => {
    // Act
    const result = await scenario(['--from-alma', '--alma-url', alma.url]);

    // Assess: 501 users in Alma's list (the 500 and the reader's patron), so 6 pages; the dry run read one.
    const pages = result.calls.filter((call) => call.path === '/almaws/v1/users');
    expect(result.dry.out).toContain(`${PATRONS + 1} patrons from Alma's users list`);
    expect([result.first.code, result.second.code]).toEqual([2, 0]);
    expect(result.second.out).toMatch(new RegExp(`finished ${PATRONS + 1}/${PATRONS + 1} \\(all sessions: `));
    expectEveryPatronOnce(result);
    // The dry run read one page; the first session pages at 0, 100, 200 (stopped in the third); the second resumed at
    // the offset it stopped at, and read on to the end.
    const resumed: string[] = [];
    for (let offset = result.stoppedAt; offset < PATRONS + 1; offset += 100) resumed.push(String(offset));
    expect(pages.map((call) => call.query['offset'])).toEqual(['0', '0', '100', '200', ...resumed]);
    expect(result.calls).toHaveLength(PATRONS * 3 + 3 + pages.length);
    process.stderr.write(
      `backfill --from-alma: ${PATRONS + 1} users, stopped at ${result.stoppedAt} and resumed; ${result.calls.length} Alma calls ` +
        `(${pages.length} list pages); ${result.seconds.toFixed(1)} s; busiest sliding second ` +
        `${maxInSlidingSecond(result.calls.map((call) => call.receivedAt))}\n${result.first.out}${result.second.out}`,
    );
  });

  it("finds a stage's tables and Users queue by the stacks' names when none are given, and refuses a second process on the run", async () => {
    // Prepare: what the stacks create for a stage (alma-cache-<stage>-users, -user-refresh-claims, -alma-guard)
    const stage = `bfn${randomUUID()
      .slice(0, 5)
      .replace(/[^a-z0-9]/g, 'x')}`;
    const dynamodb = new DynamoDBClient({});
    for (const [suffix, key] of [
      ['users', 'primary_id'],
      ['user-refresh-claims', 'primary_id'],
      ['alma-guard', 'guard_key'],
    ]) {
      await dynamodb.send(
        new CreateTableCommand({
          TableName: `alma-cache-${stage}-${suffix}`,
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
        }),
      );
    }
    dynamodb.destroy();
    const queueUrl = await createQueue(`alma-cache-${stage}-users`);
    const file = join(dir, `${stage}.txt`);
    writeFileSync(file, 'PAT-N1\nPAT-N2\nPAT-N3\n');
    const run = async (argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runBackfillCli([...argv, '--file', file, '--stage', stage, '--run', 'names'], {
        stdout: { write: (chunk: string) => out.push(chunk) } as unknown as NodeJS.WritableStream,
        stderr: { write: (chunk: string) => err.push(chunk) } as unknown as NodeJS.WritableStream,
      });
      return { code, out: out.join(''), err: err.join('') };
    };
    const progress = new DynamoDbBackfillProgress(client, `alma-cache-${stage}-alma-guard`);
    await progress.acquire('names', 'another-host:1', { source: 'file:somewhere' });

    // Act
    const refused = await run(['--yes']);
    await progress.release('names', 'another-host:1', { finished: false });
    const onAnotherList = await run(['--yes']);
    const restarted = await run(['--yes', '--restart']);

    // Assess
    expect(refused).toMatchObject({ code: 1, err: expect.stringContaining('"names" is being run by another process (another-host:1)') });
    expect(onAnotherList).toMatchObject({ code: 1, err: expect.stringContaining('was started on another list') });
    expect(restarted).toMatchObject({ code: 0, out: expect.stringContaining('finished 3/3 (all sessions: queued 3)') });
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
    expect(Attributes?.['ApproximateNumberOfMessages']).toBe('3');
  });
});

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { fakeRecordId } from '@alma-cache/alma-api/testing';

const WORKSPACE = join(__dirname, '..', '..', '..', '..');

// The README's run command, end to end with --once: build, package, emulators, provisioning, the HTTP port, the
// dispatcher, and the sample webhooks POSTed signed and read back through the query API.
describe('Local run: npm start -- --once', () => {
  let output: string;
  let status: number | null;

  beforeAll(() => {
    const result = spawnSync(
      process.execPath,
      [join(WORKSPACE, 'node_modules', 'tsx', 'dist', 'cli.mjs'), '--tsconfig', 'tsconfig.base.json', 'tools/local/start.ts', '--once'],
      {
        cwd: WORKSPACE,
        env: process.env,
        encoding: 'utf8',
        timeout: 300_000,
      },
    );
    output = `${result.stdout}\n${result.stderr}`;
    status = result.status;
  }, 310_000);

  it('exits cleanly after stopping everything it started', () => {
    expect({ status, tail: output.slice(-2000) }).toMatchObject({ status: 0 });
    expect(output).toContain('Stopped.');
  });

  it("provisions what the packaged serverless.yml files declare, and the topics delivering raw to their function's queue", () => {
    expect(output).toMatch(/created table alma-cache-stg-users \(UsersTable\)/);
    expect(output).toMatch(/created table alma-cache-stg-fees \(FeesTable\)/);
    expect(output).toMatch(/created queue alma-cache-stg-users-dlq/);
    expect(output).toMatch(/created queue alma-cache-stg-loans-dlq \(LoansDeadLetterQueue\)/);
    expect(output).toContain("created 8 topics, each delivering raw to its function's queue");
    expect(output).toMatch(/created queue alma-cache-stg-loan-updated-dlq \(LoanUpdatedDeadLetterQueue\)/);
    expect(output).toMatch(/HTTP API on http:\/\/127\.0\.0\.1:\d+: GET \/, POST \/, GET \/users\/\{id\}/);
  });

  it('prints the URLs and a signed curl sample', () => {
    expect(output).toMatch(/webhook receiver \(Alma's endpoint\)\s+POST http:\/\/127\.0\.0\.1:\d+\//);
    expect(output).toMatch(/-H 'X-Exl-Signature: [A-Za-z0-9+/]{43}=' --data-binary @tmp\/local-stack\/sample-webhook\.json/);
    expect(output).toMatch(/curl -s http:\/\/127\.0\.0\.1:\d+\/users\/PAT0042X -H 'authorization: Bearer [\w-]+\.[\w-]+\.[\w-]+'/);
  });

  it('rebuilds the unknown patron from the fake Alma API after the first signed webhook, in 3 Alma calls', () => {
    const older = (kind: 'loan' | 'request' | 'fee') => fakeRecordId('PAT0042X', kind, 0);
    expect(output).toMatch(/POST LOAN_CREATED\s+→ 200 \{"outcome":"published"/);
    expect(output).toContain('Alma API calls made by the refresh: 3 (loans, requests, fees)');
    expect(output).toMatch(
      new RegExp(`GET /users/PAT0042X → 200 \\(x-cache: hit\\)\\n(.*\\n)*?\\s+loan 7391500230004561 .* ACTIVE, due 2026-12-05T23:59:00Z`),
    );
    expect(output).toContain(`request ${older('request')} HOLD "Middlemarch" NOT_STARTED`);
    expect(output).toMatch(new RegExp(`fee ${older('fee')} OVERDUEFINE balance [\\d.]+ ACTIVE`));
  });

  it('shows each later webhook through the query API', () => {
    expect(output).toMatch(/POST REQUEST_PLACED_ON_SHELF\s+→ 200 .*\n.*\n(.*\n)*?\s+request 8812300040004561 HOLD .* ON_HOLD_SHELF/);
    expect(output).toMatch(/POST LOAN_DUE_DATE\s+→ 200 .*\n(.*\n)*?\s+loan 7391500230004561 .* ACTIVE, due 2026-12-12T23:59:00Z/);
    // What the query API served after the return (the change event above it names the loan it removed).
    const afterReturn = output.slice(output.indexOf('GET /users/PAT0042X', output.indexOf('POST LOAN_RETURNED')), output.indexOf('3. A late retry'));
    expect(afterReturn).not.toContain('loan 7391500230004561');
  });

  it('runs change-lambdas: its topic and failure queue as its template declares them', () => {
    expect(output).toContain('created queue alma-cache-stg-change-lambdas-failures (ChangeFailureQueue)');
    expect(output).toContain('created topic alma-cache-stg-cache-changes (CacheChangesTopic)');
  });

  it("shows the change events each sample webhook produced, the refresh's included, and none for what a patron never saw", () => {
    // The event lines printed under `POST <label> →`, spaces collapsed; the count line above them must agree.
    const changesAfter = (label: string): string[] => {
      const lines = output.split('\n');
      const at = lines.findIndex((line) => new RegExp(`^\\s+POST ${label}\\s+→`).test(line));
      expect({ label, found: at >= 0 }).toEqual({ label, found: true });
      const count = lines[at + 1].match(/^\s+change events: (none|\d+)$/)?.[1];
      const rest = lines.slice(at + 2);
      const events = rest
        .slice(
          0,
          rest.findIndex((line) => !/^ {8}\S/.test(line)),
        )
        .map((line) => line.trim().replace(/\s+/g, ' '));
      expect({ label, count }).toEqual({ label, count: events.length === 0 ? 'none' : String(events.length) });
      return events;
    };
    const loan = '7391500230004561';
    const hold = '8812300040004561';
    const older = (kind: 'loan' | 'request', index = 0) => fakeRecordId('PAT0042X', kind, index);

    expect(changesAfter('LOAN_CREATED').sort()).toEqual(
      [
        `loan.created loan ${loan} patron pat0042x (webhook LOAN_CREATED)`,
        `loan.created loan ${older('loan', 0)} patron pat0042x (refresh REFRESH)`,
        `loan.created loan ${older('loan', 1)} patron pat0042x (refresh REFRESH)`,
        `request.created request ${older('request')} patron pat0042x status NOT_STARTED (refresh REFRESH)`,
      ].sort(),
    );
    expect(changesAfter('REQUEST_CREATED')).toEqual([`request.created request ${hold} patron pat0042x status NOT_STARTED (webhook REQUEST_CREATED)`]);
    // The canceled hold was placed before the cache knew the patron: no patron ever saw it, so no removal either.
    expect(changesAfter('REQUEST_CANCELED')).toEqual([]);
    expect(changesAfter('REQUEST_PLACED_ON_SHELF')).toEqual([
      expect.stringMatching(
        new RegExp(
          `^request\\.status-changed request ${hold} patron pat0042x status ON_HOLD_SHELF changed request_status, .*\\(webhook REQUEST_PLACED_ON_SHELF\\)$`,
        ),
      ),
    ]);
    expect(changesAfter('REQUEST_CLOSED')).toEqual([`request.removed request ${hold} patron pat0042x status HISTORY (webhook REQUEST_CLOSED)`]);
    expect(changesAfter('LOAN_RENEWED')).toEqual([
      `loan.renewed loan ${loan} patron pat0042x changed due_date, last_renew_date (webhook LOAN_RENEWED)`,
    ]);
    expect(changesAfter('LOAN_DUE_DATE')).toEqual([`loan.due-date-changed loan ${loan} patron pat0042x changed due_date (webhook LOAN_DUE_DATE)`]);
    expect(changesAfter('LOAN_RETURNED')).toEqual([`loan.removed loan ${loan} patron pat0042x (webhook LOAN_RETURNED)`]);
    // A late retry, a refused signature and a malformed event change nothing a patron sees.
    expect(changesAfter('LOAN_RENEWED \\(again\\)')).toEqual([]);
    expect(changesAfter('tampered signature')).toEqual([]);
    expect(changesAfter('LOAN_CREATED without loan_id')).toEqual([]);
  });

  it('keeps a returned loan returned when an old event is retried', () => {
    expect(output).toMatch(/GET \/users\/PAT0042X\/loans\/7391500230004561 → 404 \{"message":"Patron \\"PAT0042X\\" has no loan/);
  });

  it("refuses a tampered signature, and parks a signed but malformed webhook on its function's DLQ with its reason, not retried", () => {
    expect(output).toMatch(/POST tampered signature\s+→ 401/);
    expect(output).toContain('loan-updated DLQ: MalformedEventError: "item_loan.loan_id" is missing or not a string (refused at once, not retried)');
  });
});

// One end-to-end pass as a person would make it: `npm start` left running, a signed webhook sent with
// `npm run webhook`, the patron read back with `npm run cache`, then Ctrl-C. In this file, after the --once run,
// because both use tmp/local-stack.
describe('Local stack end to end: signed POST, then GET shows the loan', () => {
  const tsx = (script: string, args: string[] = []) => [
    join(WORKSPACE, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
    '--tsconfig',
    'tsconfig.base.json',
    script,
    ...args,
  ];
  let stack: ChildProcess;
  let stackOutput = '';
  const transcript: string[] = [];

  const runCli = (script: string, args: string[]) => {
    const result = spawnSync(process.execPath, tsx(script, args), { cwd: WORKSPACE, env: process.env, encoding: 'utf8', timeout: 60_000 });
    transcript.push(`$ npm run ${script.replace(/^.*\/(\w+)\.ts$/, '$1')} -- ${args.join(' ')}`, result.stdout.trimEnd());
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  /** `npm run changes` left running: resolves once it has subscribed, then `exited` resolves with its output. */
  const startChangesCli = async (args: string[]) => {
    const child = spawn(process.execPath, tsx('tools/local/changes.ts', args), {
      cwd: WORKSPACE,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
      child.once('exit', (code) => {
        transcript.push(`$ npm run changes -- ${args.join(' ')}`, stdout.trimEnd());
        resolve({ code, stdout, stderr });
      }),
    );
    const deadline = Date.now() + 60_000;
    while (!stdout.includes('Tailing')) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`npm run changes did not subscribe:\n${stdout}\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return { child, exited };
  };

  /** The running stack's cache-changes subscriptions and the CLI's queues, from its session, on its emulators only. */
  const subscribersNow = async () => {
    const session = JSON.parse(readFileSync(join(WORKSPACE, 'tmp', 'local-stack', 'session.json'), 'utf8')) as {
      changeTopicArn: string;
      awsEnv: Record<string, string>;
    };
    const config = {
      region: 'eu-west-1',
      endpoint: session.awsEnv['AWS_ENDPOINT_URL'],
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    };
    expect(new URL(config.endpoint).hostname).toBe('127.0.0.1');
    const sns = new SNSClient(config);
    const sqs = new SQSClient({ ...config, useQueueUrlAsEndpoint: false });
    try {
      const { Subscriptions = [] } = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: session.changeTopicArn }));
      const { QueueUrls = [] } = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'alma-cache-local-changes-tail-' }));
      return { endpoints: Subscriptions.map((subscription) => subscription.Endpoint?.split(':').pop()), tailQueues: QueueUrls };
    } finally {
      sns.destroy();
      sqs.destroy();
    }
  };

  beforeAll(async () => {
    stack = spawn(process.execPath, tsx('tools/local/start.ts'), { cwd: WORKSPACE, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    stack.stdout!.on('data', (chunk: Buffer) => (stackOutput += chunk.toString()));
    stack.stderr!.on('data', (chunk: Buffer) => (stackOutput += chunk.toString()));
    const deadline = Date.now() + 300_000;
    while (!stackOutput.includes('until Ctrl-C')) {
      if (stack.exitCode !== null || Date.now() > deadline) throw new Error(`npm start did not come up:\n${stackOutput.slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }, 310_000);

  afterAll(() => {
    if (stack.exitCode === null) stack.kill('SIGKILL');
    process.stdout.write(`[transcript]\n${transcript.join('\n')}\n`);
  });

  it('caches a loan POSTed as a signed webhook and serves it through the query API', async () => {
    // Prepare: a new loan for the demo's patron, dated now
    const webhook = JSON.parse(readFileSync(join(WORKSPACE, 'libs/cache-domain/src/testing/alma-webhooks/loan_created.json'), 'utf8'));
    webhook.id = 'e2e-webhook-1';
    webhook.time = new Date().toISOString();
    webhook.item_loan.loan_id = 'E2E-LOAN-1';
    webhook.item_loan.title = 'End to End';
    const file = join(WORKSPACE, 'tmp', 'local-stack', 'e2e-webhook.json');
    writeFileSync(file, JSON.stringify(webhook));

    // Act
    const posted = runCli('tools/local/webhook.ts', ['tmp/local-stack/e2e-webhook.json']);
    let shown = runCli('tools/local/cache.ts', ['PAT0042X', 'loans']);
    for (let attempt = 0; attempt < 20 && !shown.stdout.includes('E2E-LOAN-1'); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      transcript.pop();
      transcript.pop();
      shown = runCli('tools/local/cache.ts', ['PAT0042X', 'loans']);
    }

    // Assess
    expect(posted).toMatchObject({ status: 0 });
    expect(posted.stdout).toMatch(/POST http:\/\/127\.0\.0\.1:\d+\/ LOAN_CREATED → 200 \{"outcome":"published"/);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/users\/PAT0042X\/loans → 200 \(x-cache: hit\)/);
    expect(shown.stdout).toMatch(/loan E2E-LOAN-1 "End to End" ACTIVE, due 2026-12-05T23:59:00Z/);
  });

  it('refuses the same webhook with a tampered signature', () => {
    // Act
    const tampered = runCli('tools/local/webhook.ts', ['LOAN_CREATED', '--tamper']);

    // Assess
    expect(tampered.status).toBe(1);
    expect(tampered.stdout).toMatch(/→ 401 \{"message":"Invalid X-Exl-Signature"\}/);
  });

  it('tails the change events with npm run changes: a filter on the patron gets the new loan, one on another record gets nothing, and both clean up', async () => {
    // Prepare: two subscribers, subscribed before the webhook is sent
    const webhook = JSON.parse(readFileSync(join(WORKSPACE, 'libs/cache-domain/src/testing/alma-webhooks/loan_created.json'), 'utf8'));
    webhook.id = 'e2e-webhook-2';
    webhook.time = new Date().toISOString();
    webhook.item_loan.loan_id = 'E2E-LOAN-2';
    writeFileSync(join(WORKSPACE, 'tmp', 'local-stack', 'e2e-webhook-2.json'), JSON.stringify(webhook));
    const mine = await startChangesCli(['--patron', 'PAT0042X', '--change', 'loan.created', '--once', '--max-seconds', '60']);
    const other = await startChangesCli(['--record', 'NOT-THIS-LOAN', '--max-seconds', '10']);

    // Act
    const posted = runCli('tools/local/webhook.ts', ['tmp/local-stack/e2e-webhook-2.json']);
    const [got, ignored] = await Promise.all([mine.exited, other.exited]);

    // Assess
    expect(posted.status).toBe(0);
    expect(got).toMatchObject({ code: 0 });
    expect(got.stdout).toContain('(filter {"patron":["pat0042x"],"change":["loan.created"]}) until the first events, at most 60 s.');
    expect(got.stdout).toMatch(/^loan\.created\s+loan E2E-LOAN-2 {2}patron pat0042x {2}\(webhook LOAN_CREATED\)$/m);
    expect(got.stdout).toContain('1 change event received; subscription and queue removed.');
    expect(ignored).toMatchObject({ code: 0 });
    expect(ignored.stdout).toContain('(filter {"recordId":["NOT-THIS-LOAN"]}) for 10 s.');
    expect(ignored.stdout).toContain('0 change events received; subscription and queue removed.');
    // Only the demo's own subscriber is left
    expect(await subscribersNow()).toEqual({ endpoints: ['alma-cache-local-demo-changes'], tailQueues: [] });
  }, 120_000);

  it('stops npm run changes on Ctrl-C and removes its subscription and queue', async () => {
    // Prepare
    const tail = await startChangesCli([]);
    expect((await subscribersNow()).endpoints).toHaveLength(2);

    // Act
    tail.child.kill('SIGINT');
    const stopped = await tail.exited;

    // Assess
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toContain('(no filter) until Ctrl-C.');
    expect(stopped.stdout).toContain('subscription and queue removed.');
    expect(await subscribersNow()).toEqual({ endpoints: ['alma-cache-local-demo-changes'], tailQueues: [] });
  }, 60_000);

  it('refuses flags the identifier rule or the topic would not take, before subscribing anything', async () => {
    // Act
    const refused = runCli('tools/local/changes.ts', ['--patron', '..', '--entity', 'fee', '--once']);

    // Assess
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('--patron is a dot segment ("." or ".."); --entity must be loan or request');
    expect(refused.stdout).toBe('');
    expect((await subscribersNow()).tailQueues).toEqual([]);
  });

  it('stops everything on Ctrl-C', async () => {
    // Act
    const exited = new Promise<number | null>((resolve) => stack.once('exit', (code) => resolve(code)));
    stack.kill('SIGINT');
    const code = await exited;

    // Assess
    expect(code).toBe(0);
    expect(stackOutput).toContain('Stopped.');
  }, 60_000);
});

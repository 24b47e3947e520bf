import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fakeRecordId } from '@alma-cache/alma-api/testing';

const WORKSPACE = join(__dirname, '..', '..', '..');

// The README's run command, end to end with --once: build, package, emulators, provisioning, the HTTP port, the
// dispatcher, and the sample webhooks POSTed signed and read back through the query API.
describe('Local run: npm start -- --once', () => {
  let output: string;
  let status: number | null;

  beforeAll(() => {
    const result = spawnSync(process.execPath, [join(WORKSPACE, 'node_modules', 'tsx', 'dist', 'cli.mjs'), '--tsconfig', 'tsconfig.base.json', 'tools/local/start.ts', '--once'], {
      cwd: WORKSPACE,
      env: process.env,
      encoding: 'utf8',
      timeout: 300_000,
    });
    output = `${result.stdout}\n${result.stderr}`;
    status = result.status;
  }, 310_000);

  it('exits cleanly after stopping everything it started', () => {
    expect({ status, tail: output.slice(-2000) }).toMatchObject({ status: 0 });
    expect(output).toContain('Stopped.');
  });

  it('provisions what the packaged serverless.yml files declare, and the topics with their delivery queues', () => {
    expect(output).toMatch(/created table alma-cache-stg-users \(UsersTable\)/);
    expect(output).toMatch(/created table alma-cache-stg-fees \(FeesTable\)/);
    expect(output).toMatch(/created queue alma-cache-stg-users-dlq/);
    expect(output).toMatch(/created queue alma-cache-stg-loans-dlq \(LoansDeadLetterQueue\)/);
    expect(output).toContain('created 8 topics, each with a delivery queue subscribed');
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
    expect(output).toMatch(new RegExp(`GET /users/PAT0042X → 200 \\(x-cache: hit\\)\\n(.*\\n)*?\\s+loan 7391500230004561 .* ACTIVE, due 2026-12-05T23:59:00Z`));
    expect(output).toContain(`request ${older('request')} HOLD "Middlemarch" NOT_STARTED`);
    expect(output).toMatch(new RegExp(`fee ${older('fee')} OVERDUEFINE balance [\\d.]+ ACTIVE`));
  });

  it('shows each later webhook through the query API', () => {
    expect(output).toMatch(/POST REQUEST_PLACED_ON_SHELF\s+→ 200 .*\n.*\n(.*\n)*?\s+request 8812300040004561 HOLD .* ON_HOLD_SHELF/);
    expect(output).toMatch(/POST LOAN_DUE_DATE\s+→ 200 .*\n(.*\n)*?\s+loan 7391500230004561 .* ACTIVE, due 2026-12-12T23:59:00Z/);
    const afterReturn = output.slice(output.indexOf('POST LOAN_RETURNED'), output.indexOf('3. A late retry'));
    expect(afterReturn).not.toContain('loan 7391500230004561');
  });

  it('keeps a returned loan returned when an old event is retried', () => {
    expect(output).toMatch(/GET \/users\/PAT0042X\/loans\/7391500230004561 → 404 \{"message":"Patron \\"PAT0042X\\" has no loan/);
  });

  it('refuses a tampered signature, and parks a signed but malformed webhook in the failure queue with its reason, not retried', () => {
    expect(output).toMatch(/POST tampered signature\s+→ 401/);
    expect(output).toContain(
      'failure queue: MalformedEventError: Alma event malformed-demo: "item_loan.loan_id" is missing or not a string (RefusedAsInvalid, after 1 attempt)',
    );
  });
});

// One end-to-end pass as a person would make it: `npm start` left running, a signed webhook sent with
// `npm run webhook`, the patron read back with `npm run cache`, then Ctrl-C. In this file, after the --once run,
// because both use tmp/local-stack.
describe('Local stack end to end: signed POST, then GET shows the loan', () => {
  const tsx = (script: string, args: string[] = []) => [join(WORKSPACE, 'node_modules', 'tsx', 'dist', 'cli.mjs'), '--tsconfig', 'tsconfig.base.json', script, ...args];
  let stack: ChildProcess;
  let stackOutput = '';
  const transcript: string[] = [];

  const runCli = (script: string, args: string[]) => {
    const result = spawnSync(process.execPath, tsx(script, args), { cwd: WORKSPACE, env: process.env, encoding: 'utf8', timeout: 60_000 });
    transcript.push(`$ npm run ${script.includes('webhook') ? 'webhook' : 'cache'} -- ${args.join(' ')}`, result.stdout.trimEnd());
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
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

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fakeRecordId } from '@alma-cache/alma-api/testing';

const WORKSPACE = join(__dirname, '..', '..', '..', '..');

// The README's run command, end to end: build, package, emulators, provisioning, the built handlers.
describe('Local run: npm start -- --once', () => {
  let output: string;
  let status: number | null;

  beforeAll(() => {
    const result = spawnSync(process.execPath, [join(WORKSPACE, 'node_modules', 'tsx', 'dist', 'cli.mjs'), '--tsconfig', 'tsconfig.base.json', 'tools/local/start.ts', '--once'], {
      cwd: WORKSPACE,
      env: process.env,
      encoding: 'utf8',
      timeout: 240_000,
    });
    output = `${result.stdout}\n${result.stderr}`;
    status = result.status;
  }, 250_000);

  it('exits cleanly', () => {
    expect({ status, tail: output.slice(-2000) }).toMatchObject({ status: 0 });
  });

  it('provisions the tables and queues of the packaged serverless.yml', () => {
    expect(output).toMatch(/created table alma-cache-stg-users \(UsersTable\)/);
    expect(output).toMatch(/created table alma-cache-stg-loans \(LoansTable\)/);
    expect(output).toMatch(/created queue alma-cache-stg-users-dlq/);
    expect(output).toMatch(/created queue alma-cache-stg-sns-lambdas-failures \(FailureQueue\)/);
    expect(output).toMatch(/created table alma-cache-stg-fees \(FeesTable\)/);
    expect(output).toMatch(/created queue alma-cache-stg-loans-dlq \(LoansDeadLetterQueue\)/);
  });

  it('caches the unknown patron\'s loan and queues the patron for refresh', () => {
    expect(output).toMatch(/LOAN_CREATED\s+→ loan-updated\s+ok\n\s+patron pat0042x: not cached/);
    expect(output).toContain('Users queue (read by the bulk refresh): ["PAT0042X"]');
  });

  it('rebuilds the queued patron from the fake Alma API with the bulk refresh, in 3 Alma calls', () => {
    const older = (kind: 'loan' | 'request' | 'fee', index: number) => fakeRecordId('PAT0042X', kind, index);
    expect(output).toContain('Users queue → update-user: 1 message(s), 0 failed; 3 Alma API calls (loans, requests, fees)');
    expect(output).toContain(
      `patron pat0042x: loan_ids=[${[older('loan', 0), older('loan', 1), '7391500230004561'].sort().join(', ')}] request_ids=[${older('request', 0)}] fee_ids=[${older('fee', 0)}]`,
    );
    expect(output).toMatch(/fee \d+ OVERDUEFINE balance [\d.]+ ACTIVE \[REFRESH @/);
  });

  it('shows the patron\'s loans and requests as the sample webhooks arrive after the refresh', () => {
    expect(output).toMatch(/REQUEST_PLACED_ON_SHELF\s+→ request-updated\s+ok\n.*request_ids=\[8812300040004561, \d+\]/);
    expect(output).toMatch(/REQUEST_PLACED_ON_SHELF\s+→ request-updated\s+ok\n(.*\n)*?\s+request 8812300040004561 .* ON_HOLD_SHELF \[REQUEST_PLACED_ON_SHELF @/);
    expect(output).toMatch(/LOAN_DUE_DATE\s+→ loan-updated\s+ok\n(.*\n)*?\s+loan 7391500230004561 .* ACTIVE, due 2026-12-12T23:59:00Z/);
    expect(output).toMatch(/LOAN_RETURNED\s+→ loan-returned\s+ok\n\s+patron pat0042x: loan_ids=\[\d+, \d+\] request_ids=/);
  });

  it('keeps a returned loan returned when an old event is retried', () => {
    expect(output).toContain('the loan stays returned: loan 7391500230004561');
    expect(output).toMatch(/RETURNED \(tombstone\) \[LOAN_RETURNED @ /);
  });

  it('parks a malformed webhook in the failure queue with its reason', () => {
    expect(output).toContain('FAILED after 3 attempts: Alma event malformed-demo: "item_loan.loan_id" is missing or empty');
    expect(output).toContain('failure queue: MalformedEventError: Alma event malformed-demo: "item_loan.loan_id" is missing or empty (after 3 attempts)');
  });
});

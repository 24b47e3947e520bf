import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const WORKSPACE = join(__dirname, '..', '..', '..', '..');

interface LintMessage {
  ruleId: string | null;
  severity: number;
  message: string;
}

// One ESLint process answers every probe, one JSON line per request line: a CLI run per probe would build the
// type-aware program again each time (some 10 s each on a busy 2-core machine). Same API the ESLint CLI calls.
const LINT_SERVER = `
const { ESLint } = require('eslint');
const { createInterface } = require('node:readline');
// The workspace config without the type-aware rules: none of the boundaries probed here needs types, and building
// a TypeScript program per probed project was most of this spec's time.
const eslint = new ESLint({
  cwd: process.cwd(),
  overrideConfig: [{
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/no-misused-promises': 'off',
      '@typescript-eslint/await-thenable': 'off',
    },
  }],
});
let queue = Promise.resolve();
createInterface({ input: process.stdin }).on('line', (line) => {
  queue = queue.then(async () => {
    const { path, code } = JSON.parse(line);
    const [result] = await eslint.lintText(code, { filePath: path });
    process.stdout.write(JSON.stringify(result.messages) + '\\n');
  });
});
`;

let server: ChildProcessWithoutNullStreams;
let serverErrors = '';
const waiting: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];

/**
 * Lints `code` as if it were the file at `path`, with the workspace's own ESLint and config (type-aware rules off).
 * ESLint lints the code given, not the file; the rules probed here read only the path (project, folder, slice).
 */
const lintAs = async (path: string, code: string): Promise<string[]> => {
  const line = await new Promise<string>((resolve, reject) => {
    waiting.push({ resolve, reject });
    server.stdin.write(`${JSON.stringify({ path, code })}\n`);
  });
  const messages = JSON.parse(line) as LintMessage[];
  return messages.filter((message) => message.severity === 2).map((message) => `${message.ruleId}: ${message.message}`);
};

// The hexagon as a build error: `nx run-many -t lint` (part of `npm test`) fails on any of these imports.
describe('Architecture: module boundaries', () => {
  beforeAll(() => {
    // The Nx rule reads the cached project graph; computing it once here makes the test independent of run order.
    execFileSync(join(WORKSPACE, 'node_modules', '.bin', 'nx'), ['show', 'projects'], {
      cwd: WORKSPACE,
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
      stdio: 'ignore',
    });
    server = spawn(process.execPath, ['-e', LINT_SERVER], { cwd: WORKSPACE, stdio: ['pipe', 'pipe', 'pipe'] });
    server.stderr.on('data', (chunk: Buffer) => (serverErrors += chunk.toString()));
    createInterface({ input: server.stdout }).on('line', (line) => waiting.shift()?.resolve(line));
    // A crashed ESLint fails the probe waiting for it with ESLint's own words, not with a timeout.
    server.on('exit', (code) => waiting.splice(0).forEach(({ reject }) => reject(new Error(`ESLint exited (${code}): ${serverErrors}`))));
  }, 60_000);

  afterAll(async () => {
    const exited = once(server, 'exit');
    server.stdin.end();
    await exited;
  });

  it.each([
    ['the adapters library', "import { DynamoDbCacheStore } from '@alma-cache/aws-adapters';", /enforce-module-boundaries/],
    ['the AWS SDK', "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';", /aws-sdk/],
    ['the DI container', "import { Container } from 'inversify';", /inversify/],
    ['Node file I/O', "import { readFileSync } from 'node:fs';", /cache-domain is pure/],
    ['an app', "import { TOKENS } from '../../../../apps/sns-lambdas/src/composition-root';", /enforce-module-boundaries/],
  ])('refuses %s in cache-domain', async (_what, code, rule) => {
    // Act
    const errors = await lintAs('libs/cache-domain/src/lib/shared/identifier.ts', `${code}\nexport const probe = 1;\n`);

    // Assess
    expect(errors.join('\n')).toMatch(rule);
  });

  it('refuses the testing library in the adapters', async () => {
    const errors = await lintAs(
      'libs/aws-adapters/src/lib/tracing.ts',
      "import { TOKENS } from '@alma-cache/local-aws';\nexport const probe = TOKENS;\n",
    );
    expect(errors.join('\n')).toMatch(/enforce-module-boundaries/);
  });

  it.each([
    ['an app', 'apps/sns-lambdas/src/composition-root.ts', "import { InMemoryCacheStore } from '@alma-cache/cache-domain/testing';"],
    ['the adapters library', 'libs/aws-adapters/src/lib/tracing.ts', "import { createCacheTables } from '@alma-cache/aws-adapters/testing';"],
    ['the domain, by a relative path', 'libs/cache-domain/src/lib/shared/identifier.ts', "import { ManualClock } from '../../testing';"],
    [
      'the domain, one fake by its file',
      'libs/cache-domain/src/lib/shared/identifier.ts',
      "import type { ManualClock } from '../../testing/manual-clock';",
    ],
  ])('refuses test fakes in the shipped code of %s', async (_what, path, code) => {
    // Act
    const errors = await lintAs(path, `${code}\nexport const probe = 1;\n`);

    // Assess
    expect(errors.join('\n')).toMatch(/no-restricted-imports: .*Test fakes and fixtures are for tests and tools/);
  });

  it('accepts test fakes in tests and in the testing entry points themselves', async () => {
    // Prepare
    const fake = "import { InMemoryCacheStore } from '@alma-cache/cache-domain/testing';\nexport const probe = InMemoryCacheStore;\n";

    // Act
    const inTests = await lintAs('apps/sns-lambdas/tests/integration/faults/support/poison-cases.ts', fake);
    const inAdapterFixtures = await lintAs('libs/aws-adapters/src/testing/cache-fixtures.ts', fake);

    // Assess
    expect(inTests).toEqual([]);
    expect(inAdapterFixtures).toEqual([]);
  });

  it.each([
    ['refresh', 'query', 'libs/cache-domain/src/lib/refresh/refresh-support.ts', "import { GetPatron } from '../query/get-patron.use-case';"],
    ['shared', 'sync', 'libs/cache-domain/src/lib/shared/identifier.ts', "import { RecordLoan } from '../sync/record-loan.use-case';"],
    // A query miss runs RefreshUser through PatronMissDeps, typed in the query slice: the ports it needs live in shared/.
    ['query', 'refresh', 'libs/cache-domain/src/lib/query/patron-miss.ts', "import { RefreshUser } from '../refresh/refresh-user.use-case';"],
    [
      'webhooks',
      'refresh',
      'libs/cache-domain/src/lib/webhooks/webhook-routing.ts',
      "export { RefreshUser } from '../refresh/refresh-user.use-case';",
    ],
  ])('refuses the %s slice importing the %s slice of cache-domain', async (from, to, path, code) => {
    // Act
    const errors = await lintAs(path, `${code}\nexport const probe = 1;\n`);

    // Assess
    expect(errors.join('\n')).toContain(`cache-domain/slice-imports: The ${from} slice may not import the ${to} slice`);
  });

  it('accepts the arrows between slices that SLICE_IMPORTS lists', async () => {
    // Prepare
    const code =
      "import { RefreshUser } from '../refresh/refresh-user.use-case';\nimport { systemClock } from '../shared/clock.port';\nimport { PatronNotFoundError } from '../errors';\nexport const probe = [RefreshUser, systemClock, PatronNotFoundError];\n";

    // Act
    const errors = await lintAs('libs/cache-domain/src/lib/audit/audit-patrons.use-case.ts', code);

    // Assess
    expect(errors).toEqual([]);
  });

  it('accepts the domain importing itself and the app importing everything it wires', async () => {
    expect(
      await lintAs(
        'libs/cache-domain/src/lib/shared/identifier.ts',
        "import { userCacheKey } from './alma-event';\nexport const probe = userCacheKey;\n",
      ),
    ).toEqual([]);
    expect(
      await lintAs(
        'apps/sns-lambdas/src/composition-root.ts',
        "import { RecordLoan } from '@alma-cache/cache-domain';\nimport { DynamoDbCacheStore } from '@alma-cache/aws-adapters';\nexport const probe = [RecordLoan, DynamoDbCacheStore];\n",
      ),
    ).toEqual([]);
  });
});

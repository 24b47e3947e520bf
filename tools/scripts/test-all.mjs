#!/usr/bin/env node
// The one test command (`npm test`): lint (module boundaries included) and typecheck every project, then one Jest
// run over all projects and all three test tiers (tests/unit, tests/integration, tests/deploy; `npm run test:<tier>` runs
// one). Ends with the plain line CI reads: "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// The SDK warns once per process that it will need Node 22 from 2027; Lambda runs the bundles on Node 22 already.
const env = {
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  ...process.env,
  NX_NO_CLOUD: 'true',
  NX_DAEMON: 'false',
  NX_TUI: 'false',
};
const bin = (name) => join(root, 'node_modules', '.bin', name);
const step = (title, command, args) => {
  process.stdout.write(`\n== ${title}\n`);
  const started = Date.now();
  const { status } = spawnSync(command, args, { cwd: root, env, stdio: 'inherit' });
  process.stdout.write(`== ${title}: ${status === 0 ? 'ok' : `failed (exit ${status})`} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return status === 0;
};

const lintPassed = step('lint and typecheck (nx)', bin('nx'), ['run-many', '-t', 'lint', 'typecheck', '--outputStyle=static']);
// One formatter for the TypeScript and JavaScript sources (.prettierrc.json, .prettierignore); `npm run format` fixes.
const formatPassed = step('format (prettier --check)', bin('prettier'), ['--check', '--log-level', 'warn', '**/*.{ts,js,mjs}']);
const checksPassed = lintPassed && formatPassed;

const resultsFile = join(root, 'tmp', 'jest-results.json');
const backendFile = join(root, 'tmp', 'aws-test-backend.json');
mkdirSync(dirname(resultsFile), { recursive: true });
rmSync(resultsFile, { force: true });
rmSync(backendFile, { force: true });
const jestArgs = ['--json', `--outputFile=${resultsFile}`, ...process.argv.slice(2)];
const testsPassed = step('tests (jest, all projects)', bin('jest'), jestArgs);

if (!existsSync(resultsFile)) {
  process.stdout.write('Jest wrote no results: it did not run.\n0 passed, 1 failed\n');
  process.exit(1);
}
const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
const byProject = new Map();
for (const suite of results.testResults) {
  const project = suite.name
    .replace(root + '/', '')
    .split('/')
    .slice(0, 2)
    .join('/');
  const counts = byProject.get(project) ?? { passed: 0, failed: 0, skipped: 0 };
  for (const test of suite.assertionResults) {
    if (test.status === 'passed') counts.passed += 1;
    else if (test.status === 'failed') counts.failed += 1;
    else counts.skipped += 1;
  }
  byProject.set(project, counts);
}
const backend = existsSync(backendFile) ? JSON.parse(readFileSync(backendFile, 'utf8')) : undefined;
process.stdout.write('\nTests per project:\n');
for (const [project, counts] of [...byProject].sort()) {
  process.stdout.write(`  ${project.padEnd(22)} ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
}
process.stdout.write(backend ? `AWS test backend: ${backend.description}\n` : 'AWS test backend: none started\n');

const failed = results.numFailedTests + (results.numRuntimeErrorTestSuites ?? 0) + (checksPassed ? 0 : 1);
const skipped = results.numPendingTests + results.numTodoTests;
const ok = checksPassed && testsPassed && results.success && results.numPassedTests > 0;
if (!checksPassed) process.stdout.write('lint, typecheck or format failed: counted as one failure below.\n');
process.stdout.write(`${results.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(ok ? 0 : 1);

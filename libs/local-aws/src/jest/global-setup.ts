import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
// Relative imports only: Jest does not apply moduleNameMapper to globalSetup files.
import { startLocalAws } from '../backend';
import { setSharedInstance, sharedInstance } from './shared-instance';

/**
 * Jest `globalSetup`: starts the AWS emulators chosen by AWS_TEST_BACKEND once per Jest process (reused
 * when several projects list it), puts their env into process.env so test workers inherit it, and
 * records the backend in tmp/aws-test-backend.json for the test summary.
 *
 * Use with `globalTeardown: '<rootDir>/../../libs/local-aws/src/jest/global-teardown.ts'`.
 */
export default async function globalSetup(): Promise<void> {
  let aws = sharedInstance();
  if (aws === undefined) {
    aws = await startLocalAws({ backend: process.env['AWS_TEST_BACKEND'] });
    setSharedInstance(aws);
    process.stderr.write(`AWS test backend: ${aws.description}\n`);
    const record = join(workspaceRoot(), 'tmp', 'aws-test-backend.json');
    await mkdir(dirname(record), { recursive: true });
    await writeFile(record, `${JSON.stringify({ backend: aws.backend, description: aws.description })}\n`);
  }
  Object.assign(process.env, aws.env);
}

/** The directory holding nx.json above this file; the current directory as a last resort. */
function workspaceRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
  }
  return process.cwd();
}

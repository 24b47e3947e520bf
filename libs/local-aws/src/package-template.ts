import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runNode, tail } from './child-process';
import type { Template } from './template-contract';

/**
 * Packages an app's serverless.yml offline (`tools/scripts/sls.mjs package`) for a stage into `packageDir` and reads
 * back the CloudFormation template it wrote. A failed run throws with the exit code and the end of its output, so the
 * spec's beforeAll reports why instead of a missing file.
 *
 * @example
 * const template = await packageTemplate('apps/alma-topics', 'stg', join(workDir, 'stg'), childEnv({}), 180_000);
 */
export const packageTemplate = async (
  app: string,
  stage: string,
  packageDir: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<Template> => {
  const packaged = await runNode(['tools/scripts/sls.mjs', 'package', '--app', app, '--stage', stage, '--package-dir', packageDir], env, timeoutMs);
  if (packaged.code !== 0) throw new Error(`sls.mjs package failed (exit ${packaged.code}):\n${tail(packaged.output)}`);
  return JSON.parse(readFileSync(join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
};

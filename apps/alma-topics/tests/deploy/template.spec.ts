import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlmaEventType } from '@alma-cache/cache-domain';
import { childEnv, packageTemplate, runNode, type Template } from '@alma-cache/local-aws';

// The packaged CloudFormation template of the topics stack, offline: what osls would hand to AWS.

const PACKAGE_TIMEOUT_MS = 120_000;
const EVENTS = Object.values(AlmaEventType);
const pascal = (event: string) =>
  event
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');

describe('Template: alma-topics', () => {
  let workDir: string;

  const packageFor = async (stage: 'stg' | 'prod'): Promise<Template> => {
    const packageDir = join(workDir, stage);
    return packageTemplate('apps/alma-topics', stage, packageDir, childEnv({}), PACKAGE_TIMEOUT_MS);
  };

  beforeAll(() => {
    workDir = mkdtempSync(join(tmpdir(), 'alma-topics-template-'));
  });

  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it.each(['stg', 'prod'] as const)(
    'creates one topic per Alma event for %s, named for the stage, and outputs and exports each ARN',
    async (stage) => {
      // Act
      const template = await packageFor(stage);

      // Assess
      const topics = Object.entries(template.Resources).filter(([, resource]) => resource.Type === 'AWS::SNS::Topic');
      expect(Object.fromEntries(topics.map(([id, resource]) => [id, resource.Properties]))).toEqual(
        Object.fromEntries(
          EVENTS.map((event) => [`${pascal(event)}Topic`, { TopicName: `alma-cache-${stage}-${event.toLowerCase().replaceAll('_', '-')}` }]),
        ),
      );
      for (const event of EVENTS) {
        expect(template.Outputs?.[`${pascal(event)}TopicArn`]).toEqual({
          Value: { Ref: `${pascal(event)}Topic` },
          Export: { Name: `alma-cache-${stage}-${pascal(event)}TopicArn` },
        });
      }
      expect(Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::Lambda::Function')).toEqual([]);
    },
    PACKAGE_TIMEOUT_MS,
  );

  it('refuses a stage other than stg and prod before osls runs', async () => {
    // Act
    const result = await runNode(
      ['tools/scripts/sls.mjs', 'package', '--app', 'apps/alma-topics', '--stage', 'dev'],
      childEnv({}),
      PACKAGE_TIMEOUT_MS,
    );

    // Assess
    expect(result.code).toBe(1);
    expect(result.output).toContain('stage "dev" is not allowed: the only stages are stg and prod');
  });
});

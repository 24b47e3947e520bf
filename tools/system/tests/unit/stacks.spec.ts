import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { nxProject, WORKSPACE_ROOT } from '@alma-cache/local-aws';
import { CROSS_STACK_VALUES, overridesFromOutputs, stackName, SYSTEM_STACKS } from '../../stacks';

// The catalogue in stacks.ts against what really decides the order and the values: the Nx projects (as Nx resolves
// them, nx.json's targetDefaults included) and the serverless.yml files. A stack reading another's output without the Nx dependency would deploy in a race.

const serverlessYml = (project: string): string => readFileSync(join(WORKSPACE_ROOT, 'apps', project, 'serverless.yml'), 'utf8');
/** Every `${env:<NAME>_${self:custom.stageEnvSuffix}, cf:<stack>-${sls:stage}.<Output>}` of a serverless.yml. */
const cfReads = (yml: string) =>
  [...yml.matchAll(/\$\{env:([A-Z_]+)_\$\{self:custom\.stageEnvSuffix\}, cf:([a-z-]+)-\$\{sls:stage\}\.([A-Za-z]+)\}/g)].map(
    ([, override, service, output]) => ({
      override: override as string,
      service: service as string,
      output: output as string,
    }),
  );

describe('Function: stackName', () => {
  it("names a project's stack for a stage, and refuses a project that is not a stack", () => {
    // Assess
    expect(stackName('alma-topics', 'prod')).toBe('alma-cache-topics-prod');
    expect(() => stackName('tools', 'stg')).toThrow('tools is not one of the system');
  });
});

describe('Function: overridesFromOutputs', () => {
  it("turns a producer's outputs into the override variables its consumers read first", () => {
    // Act
    const env = overridesFromOutputs('sns-lambdas', 'stg', { UsersTableName: 'alma-cache-stg-users', Unrelated: 'x' });

    // Assess
    expect(env).toEqual({ USER_CACHE_TABLE_NAME_STG: 'alma-cache-stg-users' });
  });
});

describe('Catalogue: SYSTEM_STACKS and CROSS_STACK_VALUES', () => {
  it('has no Fn::ImportValue left between the stacks', () => {
    // Assess
    for (const { project } of SYSTEM_STACKS) {
      const resolved = parseYaml(serverlessYml(project)) as unknown;
      expect({ project, imports: JSON.stringify(resolved).includes('Fn::ImportValue') }).toEqual({ project, imports: false });
    }
  });

  it('reads every cross-stack value through ${cf:…} from a stack it depends on, overridable per stage, as catalogued', () => {
    // Prepare
    const serviceOf = Object.fromEntries(SYSTEM_STACKS.map((stack) => [stack.service, stack.project]));
    const read = new Set<string>();

    for (const { project, dependsOn } of SYSTEM_STACKS) {
      // Act
      for (const { override, service, output } of cfReads(serverlessYml(project))) {
        const producer = serviceOf[service];
        read.add(`${producer}.${output}`);

        // Assess
        expect({ project, output, producer, dependsOnProducer: dependsOn.includes(producer ?? '') }).toEqual({
          project,
          output,
          producer,
          dependsOnProducer: true,
        });
        expect(CROSS_STACK_VALUES).toContainEqual({ producer, output, override });
        expect({
          producer,
          output,
          declared: Object.keys((parseYaml(serverlessYml(producer as string)) as { resources: { Outputs: object } }).resources.Outputs),
        }).toEqual(expect.objectContaining({ declared: expect.arrayContaining([output]) }));
      }
    }
    expect([...read].sort()).toEqual(CROSS_STACK_VALUES.map((value) => `${value.producer}.${value.output}`).sort());
  });

  it('gives Nx the same order: implicitDependencies, deploy after ^deploy and the preflight, remove after the dependents', () => {
    for (const { project, dependsOn } of SYSTEM_STACKS) {
      // Act
      const config = nxProject(project);
      const dependents = SYSTEM_STACKS.filter((stack) => stack.dependsOn.includes(project)).map((stack) => stack.project);

      // Assess
      expect({ project, implicit: [...(config.implicitDependencies ?? [])].sort() }).toEqual({ project, implicit: [...dependsOn].sort() });
      const deploy = config.targets['deploy']?.dependsOn ?? [];
      expect(deploy).toContainEqual({ projects: ['tools'], target: 'preflight', params: 'forward' });
      if (dependsOn.length > 0) expect(deploy).toContainEqual({ dependencies: true, target: 'deploy', params: 'forward' });
      const remove = config.targets['remove']?.dependsOn ?? [];
      const removedFirst = remove.flatMap((dependency) =>
        typeof dependency === 'object' && dependency.target === 'remove' ? (dependency.projects ?? []) : [],
      );
      expect({ project, removedFirst: removedFirst.sort() }).toEqual({ project, removedFirst: dependents.sort() });
    }
  });
});

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const WORKSPACE = join(__dirname, '..', '..', '..', '..');
const TIER_FOLDER = /\/tests\/(unit|integration|deploy)\//;

/** Every spec file git knows of, tracked or new, as workspace-relative paths. */
const specFiles = (): string[] =>
  execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.spec.ts'], { cwd: WORKSPACE, encoding: 'utf8' })
    .split('\n')
    .filter((path) => path !== '' && !path.startsWith('node_modules/'));

// `npm test` runs every spec, but `npm run test:unit|integration|deploy` (tools/scripts/jest-tier.js) only those under
// tests/<tier>/: a spec anywhere else would pass in CI and never run in the tier a developer runs.
describe('Architecture: test tiers', () => {
  it('finds every spec file in a tier folder of its project', () => {
    // Act
    const specs = specFiles();
    const outside = specs.filter((path) => !TIER_FOLDER.test(path));

    // Assess
    expect(specs.length).toBeGreaterThan(50);
    expect(outside).toEqual([]);
  });

  it('finds every project with specs in the root Jest config', () => {
    // Prepare
    const config = readFileSync(join(WORKSPACE, 'jest.config.js'), 'utf8');
    const projects = new Set(specFiles().map((path) => path.split('/tests/')[0]));

    // Act
    const missing = [...projects].filter((project) => !config.includes(`'<rootDir>/${project}'`));

    // Assess
    expect(projects.size).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });
});

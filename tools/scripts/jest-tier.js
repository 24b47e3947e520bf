// One test tier (tests/unit, tests/integration or tests/deploy of every project) as a Jest config: each project's own
// config, limited to that tier's folder. `npm test` keeps the root jest.config.js, which runs every tier at once.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const root = join(__dirname, '..', '..');
const { projects, ...workspace } = require(join(root, 'jest.config.js'));

/**
 * The Jest config of one tier. The unit tier drops the projects' global setup, so no emulator starts, and scrubs the
 * AWS environment (tools/scripts/jest-no-aws.js), so a unit spec that reaches for AWS fails instead of finding one.
 *
 * @example
 * // jest.unit.config.js
 * module.exports = require('./tools/scripts/jest-tier.js').tierConfig('unit');
 */
function tierConfig(tier) {
  const tierProjects = projects
    .map((project) => project.replace('<rootDir>', root))
    .filter((dir) => existsSync(join(dir, 'tests', tier)))
    .map((dir) => {
      const { globalSetup, globalTeardown, ...config } = require(join(dir, 'jest.config.js'));
      const setup = tier !== 'unit' && globalSetup !== undefined ? { globalSetup, globalTeardown } : {};
      return { ...config, ...setup, testMatch: [`<rootDir>/tests/${tier}/**/*.spec.ts`] };
    });
  const noAws = tier === 'unit' ? { globalSetup: join(__dirname, 'jest-no-aws.js') } : {};
  return { ...workspace, ...noAws, projects: tierProjects };
}

module.exports = { tierConfig };

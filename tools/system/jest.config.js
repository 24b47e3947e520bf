// The preflight and status logic, the agreement between the stacks' catalogue, the Nx targets and the serverless.yml
// files, and the whole system deployed into a fresh moto of its own with the one command (tests/deploy/system.deploy.spec.ts).
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'system',
  rootDir: __dirname,
};

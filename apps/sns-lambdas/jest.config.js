// The handler specs and the deploy specs (tests/deploy) share the workspace preset; the global setup starts
// the local AWS backend once per Jest run (libs/local-aws). The deploy specs build, package and deploy for
// real, so they set their own, longer timeouts per hook and test.
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'sns-lambdas',
  rootDir: __dirname,
  globalSetup: '<rootDir>/../../libs/local-aws/src/jest/global-setup.ts',
  globalTeardown: '<rootDir>/../../libs/local-aws/src/jest/global-teardown.ts',
};

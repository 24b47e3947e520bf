// The handler specs run the real stream handler (and, upstream of it, the real sns-lambdas handlers) against the
// emulators the global setup starts once per Jest run (libs/local-aws). The deploy specs build, package and
// deploy for real, so they set their own, longer timeouts per hook and test.
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'change-lambdas',
  rootDir: __dirname,
  globalSetup: '<rootDir>/../../libs/local-aws/src/jest/global-setup.ts',
  globalTeardown: '<rootDir>/../../libs/local-aws/src/jest/global-teardown.ts',
  testTimeout: 60000,
};

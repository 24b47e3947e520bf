// Handler specs run the real handlers against the emulator tables and the fake Alma server; the deploy specs
// (tests/deploy) build, package and deploy for real, so they set their own, longer timeouts per hook and test.
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'refresh-lambdas',
  rootDir: __dirname,
  globalSetup: '<rootDir>/../../libs/local-aws/src/jest/global-setup.ts',
  globalTeardown: '<rootDir>/../../libs/local-aws/src/jest/global-teardown.ts',
};

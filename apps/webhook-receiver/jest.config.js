// The HTTP specs run the real handler behind the local HTTP API server against moto (SSM, SNS, SQS); the deploy
// specs (tests/deploy) build, package and deploy for real, so they set their own, longer timeouts per hook and test.
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'webhook-receiver',
  rootDir: __dirname,
  globalSetup: '<rootDir>/../../libs/local-aws/src/jest/global-setup.ts',
  globalTeardown: '<rootDir>/../../libs/local-aws/src/jest/global-teardown.ts',
};

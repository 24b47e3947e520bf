// tests/integration runs against real AWS-protocol servers started once by the global setup; tests/unit needs none.
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'aws-adapters',
  rootDir: __dirname,
  globalSetup: '<rootDir>/../local-aws/src/jest/global-setup.ts',
  globalTeardown: '<rootDir>/../local-aws/src/jest/global-teardown.ts',
  testTimeout: 60000,
};

// The HTTP specs serve the real route table through the local HTTP API server against the emulators (DynamoDB
// Local, SQS and SSM in moto or LocalStack) and the fake Alma server; the template spec bundles and packages for
// real, so it sets its own, longer timeouts.
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'query-api',
  rootDir: __dirname,
  globalSetup: '<rootDir>/../../libs/local-aws/src/jest/global-setup.ts',
  globalTeardown: '<rootDir>/../../libs/local-aws/src/jest/global-teardown.ts',
};

// The redrive CLI against the emulators: moto SQS/SNS (and DynamoDB Local) from the shared global setup.
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'redrive',
  rootDir: __dirname,
  globalSetup: '<rootDir>/../../libs/local-aws/src/jest/global-setup.ts',
  globalTeardown: '<rootDir>/../../libs/local-aws/src/jest/global-teardown.ts',
};

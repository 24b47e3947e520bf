// The warm-up backfill: unit specs of its parts, and the whole run against the emulators (DynamoDB Local, moto) from
// the shared global setup, with the refresh's use case consuming the Users queue in-process.
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'backfill',
  rootDir: __dirname,
  globalSetup: '<rootDir>/../../libs/local-aws/src/jest/global-setup.ts',
  globalTeardown: '<rootDir>/../../libs/local-aws/src/jest/global-teardown.ts',
};

// Tests talk to the fake Alma server over loopback: no global setup, no AWS emulators.
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'alma-api',
  rootDir: __dirname,
  testTimeout: 15000,
};

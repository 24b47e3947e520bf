// The load run: unit specs of its model and maths (no emulator), and one short run of the whole thing, which starts
// its own local stack (emulators, fake Alma, HTTP port) as `npm run load` does, so no global setup.
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'load',
  rootDir: __dirname,
};

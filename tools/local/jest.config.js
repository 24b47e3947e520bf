// The README's run command, tested as a person runs it: `npm start` in a child process (it starts its own emulators,
// fake Alma and HTTP port, so no global setup), and the CLIs against it.
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'local-stack',
  rootDir: __dirname,
};

// The workspace's module boundaries, checked by linting probe code as if it sat in the domain, the adapters or an app
// (with the workspace's own ESLint CLI and config): no emulator, so no global setup.
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'architecture',
  rootDir: __dirname,
};

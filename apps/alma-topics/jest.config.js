// The template spec packages serverless.yml offline (no emulator needed); the whole-system deploy lives in
// tools/system, which deploys this stack first.
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'alma-topics',
  rootDir: __dirname,
};

module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'cache-domain',
  rootDir: __dirname,
};

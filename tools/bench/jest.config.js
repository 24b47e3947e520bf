// The bench's smoke test: quick mode as a child process, checking every figure was produced (no time thresholds).
// It starts its own DynamoDB Local, so no global setup.
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'bench',
  rootDir: __dirname,
};

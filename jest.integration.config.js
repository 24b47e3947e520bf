// `npm run test:integration`. The integration specs of every project, against the emulators the global setup starts (DynamoDB Local, moto).
module.exports = require('./tools/scripts/jest-tier.js').tierConfig('integration');

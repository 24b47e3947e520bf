// `npm run test:unit`. No emulator: the unit specs of every project, without the global setup and with no AWS environment.
module.exports = require('./tools/scripts/jest-tier.js').tierConfig('unit');

// `npm run test:deploy`. The template specs (packaged with osls) and the real deploys into moto.
module.exports = require('./tools/scripts/jest-tier.js').tierConfig('deploy');

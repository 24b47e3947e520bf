// Jest globalSetup of the unit tier (tools/scripts/jest-tier.js): the workers inherit this environment, and it holds
// no AWS endpoint, region, credentials or profile. A spec that needs an emulator then fails at its first call (no
// region, no credentials) rather than reaching an emulator left running or a real account from the shell.
module.exports = async function noAws() {
  for (const name of Object.keys(process.env)) {
    if (/^AWS_(ENDPOINT_URL|REGION$|DEFAULT_REGION$|ACCESS_KEY_ID$|SECRET_ACCESS_KEY$|SESSION_TOKEN$|PROFILE$|DEFAULT_PROFILE$)/.test(name)) {
      delete process.env[name];
    }
  }
  // Not the developer's ~/.aws files, nor the instance metadata service.
  process.env['AWS_SHARED_CREDENTIALS_FILE'] = '/nonexistent/aws-credentials';
  process.env['AWS_CONFIG_FILE'] = '/nonexistent/aws-config';
  process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
};

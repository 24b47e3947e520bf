#!/usr/bin/env node
// Runs the workspace's own osls (the MIT continuation of Serverless Framework v3) for one app.
//
//   node tools/scripts/sls.mjs <package|deploy|remove|print> --app apps/sns-lambdas \
//     [--stage stg|prod] [--region eu-west-1] [--package-dir <dir>] [-- <more osls options, e.g. --verbose>]
//
// - Stage: `stg` unless told otherwise, so a bare command never touches production. Only `stg` and
//   `prod` exist; anything else is refused here, before osls runs (the app's serverless.yml refuses
//   them too, for anyone calling osls directly). An empty value (`--stage=`, which is what Nx passes
//   for a missing `{args.stage}`) counts as not given.
// - Region: --region, else AWS_REGION, else AWS_DEFAULT_REGION, else eu-west-1: the stack's home
//   region, which the local emulators (libs/local-aws) use too. The SNS topics normally live there;
//   osls passes a topic's own region to its subscription when it differs.
// - Environment variables: every `${env:NAME}` without a fallback in the app's serverless.yml is
//   required. A per-stage one is written `${env:NAME_${self:custom.stageEnvSuffix}}` and the suffix
//   comes from tools/serverless/stages.yml, as in the apps (stg -> STG, prod -> PROD). All the missing
//   ones are named in one message before osls runs. `remove` only needs the stack name, so for it a
//   missing one gets a placeholder value instead.
// - `remove` of a stack that does not exist (never deployed, or already removed) is a no-op that says so: osls would
//   first resolve the stack's `${cf:…}` inputs from stacks that may be gone too, and fail on them. So
//   `nx run-many -t remove` also clears a stage whose deploy stopped halfway.
// - `package` writes to <app>/.serverless (or --package-dir, e.g. a test's own folder, so it cannot
//   collide with a deploy that packages into .serverless at the same time) and needs neither
//   credentials nor network.
// - osls runs with the app folder as cwd, inherits stdio; this script exits with its exit code.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';

const workspaceRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const COMMANDS = ['package', 'deploy', 'remove', 'print'];
const STAGES = ['stg', 'prod'];
const DEFAULT_STAGE = 'stg';
const DEFAULT_REGION = 'eu-west-1';

function fail(message) {
  console.error(`sls.mjs: ${message}`);
  process.exit(1);
}

function usage() {
  return (
    'usage: node tools/scripts/sls.mjs <package|deploy|remove|print> --app <app dir> ' +
    '[--stage stg|prod] [--region <aws region>] [--package-dir <dir>] [-- <osls options>]'
  );
}

function parseCli(argv) {
  const separator = argv.indexOf('--');
  const own = separator === -1 ? argv : argv.slice(0, separator);
  const passthrough = separator === -1 ? [] : argv.slice(separator + 1);
  let parsed;
  try {
    parsed = parseArgs({
      args: own,
      allowPositionals: true,
      options: {
        app: { type: 'string' },
        stage: { type: 'string' },
        region: { type: 'string' },
        'package-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    fail(`${error.message}\n${usage()}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(usage());
    process.exit(0);
  }
  if (positionals.length !== 1 || !COMMANDS.includes(positionals[0])) {
    fail(`expected one command out of ${COMMANDS.join(', ')}; got ${positionals.length ? positionals.join(' ') : 'none'}.\n${usage()}`);
  }
  if (!values.app) fail(`--app is required.\n${usage()}`);

  const stage = values.stage?.trim() || DEFAULT_STAGE;
  if (!STAGES.includes(stage)) {
    fail(`stage "${stage}" is not allowed: the only stages are ${STAGES.join(' and ')} (default ${DEFAULT_STAGE}).`);
  }
  const region = values.region?.trim() || process.env.AWS_REGION?.trim() || process.env.AWS_DEFAULT_REGION?.trim() || DEFAULT_REGION;
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) fail(`"${region}" does not look like an AWS region (e.g. eu-west-1).`);

  const packageDir = values['package-dir']?.trim() || '.serverless';
  if (values['package-dir'] !== undefined && positionals[0] !== 'package') fail('--package-dir only goes with package.');

  return { command: positionals[0], app: values.app, stage, region, packageDir, passthrough };
}

function collectStrings(node, into = []) {
  if (typeof node === 'string') into.push(node);
  else if (Array.isArray(node)) node.forEach((item) => collectStrings(item, into));
  else if (node && typeof node === 'object') Object.values(node).forEach((value) => collectStrings(value, into));
  return into;
}

// Names of the environment variables the config needs for this stage: `${env:NAME}` and
// `${env:NAME_${self:custom.stageEnvSuffix}}` with no fallback (a fallback makes one optional).
function requiredEnvNames(config, stage) {
  const suffixes = parseYaml(readFileSync(path.join(workspaceRoot, 'tools', 'serverless', 'stages.yml'), 'utf8'));
  const suffix = suffixes?.[stage] ?? stage.toUpperCase();
  const pattern = /\$\{env:([A-Za-z0-9_]*)(\$\{self:custom\.stageEnvSuffix\})?([A-Za-z0-9_]*)\}/g;
  const names = new Set();
  for (const text of collectStrings(config)) {
    for (const [, before, perStage, after] of text.matchAll(pattern)) {
      names.add(`${before}${perStage ? suffix : ''}${after}`);
    }
  }
  return [...names].sort();
}

function resolveOsls() {
  const bin = path.join(workspaceRoot, 'node_modules', '.bin', 'serverless');
  if (!existsSync(bin)) fail(`no ${path.relative(workspaceRoot, bin)}: run \`npm install\` at the workspace root first.`);
  // .bin/serverless links to osls's bin/serverless.js; run it with this Node, whatever the shell's PATH.
  return realpathSync(bin);
}

// Whether the stack exists; errors other than "does not exist" (credentials, network) are left to osls to report.
async function stackExists(stackName, region) {
  const cloudFormation = new CloudFormationClient({ region });
  try {
    const stack = (await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
    return stack !== undefined && stack.StackStatus !== 'DELETE_COMPLETE';
  } catch (error) {
    return !/does not exist/.test(error?.message ?? '');
  } finally {
    cloudFormation.destroy();
  }
}

async function main() {
  const { command, app, stage, region, packageDir, passthrough } = parseCli(process.argv.slice(2));
  const appDir = path.resolve(workspaceRoot, app);
  const configFile = path.join(appDir, 'serverless.yml');
  if (!existsSync(configFile)) fail(`no serverless.yml in ${path.relative(workspaceRoot, appDir) || '.'}.`);

  let config;
  try {
    // Only plain values are read here; CloudFormation short tags (!Ref …), if any, may stay unresolved.
    config = parseYaml(readFileSync(configFile, 'utf8'), { logLevel: 'error' });
  } catch (error) {
    fail(`cannot parse ${path.relative(workspaceRoot, configFile)}: ${error.message}`);
  }

  if (command === 'remove' && typeof config?.service === 'string') {
    const stackName = `${config.service}-${stage}`;
    if (!(await stackExists(stackName, region))) {
      console.log(`sls.mjs: stack ${stackName} does not exist (region ${region}): nothing to remove.`);
      process.exit(0);
    }
  }

  const env = { ...process.env };
  const missing = requiredEnvNames(config, stage).filter((name) => !env[name]?.trim());
  if (missing.length > 0) {
    if (command === 'remove') {
      // Removing deletes the stack by name; the values only have to pass osls's validation.
      for (const name of missing) env[name] = `arn:aws:sns:${region}:000000000000:unset-${name}`;
      console.warn(`sls.mjs: not set, placeholders used for remove: ${missing.join(', ')}`);
    } else {
      fail(
        `missing environment variable${missing.length === 1 ? '' : 's'} for stage ${stage}: ${missing.join(', ')}. ` +
          'Set them (for topics: the SNS topic ARNs) and run again.',
      );
    }
  }

  const args = [resolveOsls(), command, '--stage', stage, '--region', region];
  if (command === 'package') args.push('--package', path.resolve(appDir, packageDir));
  args.push(...passthrough);

  console.log(`sls.mjs: osls ${command} for ${path.relative(workspaceRoot, appDir)} (stage ${stage}, region ${region})`);
  const child = spawn(process.execPath, args, { cwd: appDir, stdio: 'inherit', env });
  // Ctrl-C reaches osls directly (same process group): wait for it to stop rather than die first.
  // A SIGTERM aimed at this process only (Nx, CI) is passed on.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('error', (error) => fail(`could not start osls: ${error.message}`));
  child.on('exit', (code, signal) => {
    if (signal) {
      console.error(`sls.mjs: osls stopped by ${signal}`);
      process.exit(1);
    }
    process.exit(code ?? 1);
  });
}

main().catch((error) => fail(error?.message ?? String(error)));

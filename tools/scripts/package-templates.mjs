#!/usr/bin/env node
// Packages every app's serverless.yml offline and compares the CloudFormation templates of two such runs: the check
// that a refactor of the templates (shared fragments, tools/serverless/shared-resources.js, flow style) changed
// nothing osls hands to AWS.
//
//   node tools/scripts/package-templates.mjs package --out <dir> [--root <workspace>] [--stage stg,prod]
//   node tools/scripts/package-templates.mjs compare <before dir> <after dir>
//
// - package: runs the workspace's osls (`package`, no credentials, no network) in each apps/<app> of --root (default
//   this workspace; a `git worktree` of an older commit works too) for each stage, into <dir>/<stage>/<app>. The
//   `${cf:…}` reads cannot call DescribeStacks offline, so every per-stage override variable the templates name
//   (`${env:NAME_${self:custom.stageEnvSuffix}…}`) gets a value made from its name alone, the same in every run; so
//   does the alarm topic, so the alarms show where they notify. No bundles are needed: each <APP>_ARTIFACT_DIR points
//   at a folder of empty <fn>.zip files (osls checks that a zip exists and names it in the template, no more).
//   Nothing else of the caller's environment reaches osls but PATH and HOME.
// - compare: for each stage and app in either folder, both templates with their keys sorted and the timestamped S3
//   keys of the artifacts (serverless/<service>/<stage>/<timestamp>/…) made one, then `diff -u`. Exits 1 on any
//   difference, and says which templates match.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';

const workspaceRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TEMPLATE = 'cloudformation-template-update-stack.json';
const REGION = 'eu-west-1';
const ACCOUNT = '000000000000';

function fail(message) {
  console.error(`package-templates.mjs: ${message}`);
  process.exit(2);
}

/** A plausible value for an override variable, from its name only (so two runs agree). */
function valueFor(name, stage) {
  const base = name.replace(/_(STG|PROD)$/, '');
  const slug = base.toLowerCase().replace(/_/g, '-');
  if (base === 'QUERY_API_JWT_ISSUER') return `https://issuer.example.com/${stage}`;
  if (base === 'QUERY_API_JWT_AUDIENCE') return `query-api-${stage}`;
  if (base.endsWith('_TOPIC_ARN')) return `arn:aws:sns:${REGION}:${ACCOUNT}:${slug}-${stage}`;
  if (base.endsWith('_STREAM_ARN')) return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${slug}-${stage}/stream/2026-01-01T00:00:00.000`;
  if (base.endsWith('_QUEUE_ARN') || base.endsWith('_DLQ_ARN')) return `arn:aws:sqs:${REGION}:${ACCOUNT}:${slug}-${stage}`;
  if (base.endsWith('_QUEUE_URL')) return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${slug}-${stage}`;
  if (base.endsWith('_TABLE_NAME')) return `${slug}-${stage}`;
  return undefined;
}

/** The text osls reads for an app: its serverless.yml and the shared fragments it may include. */
function configTexts(root, app) {
  const shared = path.join(root, 'tools', 'serverless');
  const fragments = existsSync(shared) ? readdirSync(shared).filter((file) => /\.ya?ml$/.test(file)) : [];
  return [path.join(root, 'apps', app, 'serverless.yml'), ...fragments.map((file) => path.join(shared, file))].map((file) =>
    readFileSync(file, 'utf8'),
  );
}

function envFor(root, app, stage, artifactDir) {
  const suffix = stage.toUpperCase();
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' };
  for (const text of configTexts(root, app)) {
    for (const [, name] of text.matchAll(/\$\{env:([A-Z0-9_]+)_\$\{self:custom\.stageEnvSuffix\}/g)) {
      const value = valueFor(`${name}_${suffix}`, stage);
      if (value !== undefined) env[`${name}_${suffix}`] = value;
    }
    for (const [, name] of text.matchAll(/\$\{env:([A-Z0-9_]+_ARTIFACT_DIR)\b/g)) env[name] = artifactDir;
    // osls checks that each artifact exists, nothing more: an empty file stands for the bundle.
    for (const [, zip] of text.matchAll(/artifactDir\}\/([A-Za-z0-9_.-]+\.zip)/g)) writeFileSync(path.join(artifactDir, zip), '');
  }
  // <fn>.zip, the default of tools/serverless/shared-resources.js.
  const functions = parseYaml(configTexts(root, app)[0], { logLevel: 'silent' })?.functions ?? {};
  for (const fn of Object.keys(functions)) writeFileSync(path.join(artifactDir, `${fn}.zip`), '');
  env[`ALARM_TOPIC_ARN_${suffix}`] = `arn:aws:sns:${REGION}:${ACCOUNT}:alma-cache-alarms-${stage}`;
  return env;
}

function packageAll({ out, root, stages }) {
  const osls = path.join(root, 'node_modules', '.bin', 'serverless');
  if (!existsSync(osls)) fail(`no ${osls}: run npm install (or link node_modules into the worktree) first.`);
  const apps = readdirSync(path.join(root, 'apps'))
    .filter((app) => existsSync(path.join(root, 'apps', app, 'serverless.yml')))
    .sort();
  const artifactDir = mkdtempSync(path.join(tmpdir(), 'package-templates-artifacts-'));
  let failed = 0;
  try {
    for (const stage of stages) {
      for (const app of apps) {
        const target = path.join(out, stage, app);
        rmSync(target, { recursive: true, force: true });
        mkdirSync(target, { recursive: true });
        const run = spawnSync(process.execPath, [realpathSync(osls), 'package', '--stage', stage, '--region', REGION, '--package', target], {
          cwd: path.join(root, 'apps', app),
          env: envFor(root, app, stage, artifactDir),
          encoding: 'utf8',
        });
        const ok = run.status === 0 && existsSync(path.join(target, TEMPLATE));
        console.log(`${ok ? 'packaged' : 'FAILED  '} ${stage}/${app}`);
        if (!ok) {
          failed += 1;
          console.error(`${run.stdout ?? ''}${run.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n'));
        }
      }
    }
  } finally {
    rmSync(artifactDir, { recursive: true, force: true });
  }
  if (failed > 0) process.exit(1);
}

const sortKeys = (value) =>
  Array.isArray(value)
    ? value.map(sortKeys)
    : value && typeof value === 'object'
      ? Object.fromEntries(
          Object.keys(value)
            .sort()
            .map((key) => [key, sortKeys(value[key])]),
        )
      : value;

/** The template with sorted keys, the artifacts' timestamped S3 folder made one. */
function normalised(file) {
  const text = JSON.stringify(sortKeys(JSON.parse(readFileSync(file, 'utf8'))), null, 2);
  return `${text.replace(/(serverless\/[^/"]+\/[^/"]+\/)\d+-[0-9TZ:.-]+\//g, '$1<timestamp>/')}\n`;
}

function compare(before, after) {
  const pairs = new Set();
  for (const dir of [before, after]) {
    for (const stage of existsSync(dir) ? readdirSync(dir) : []) {
      for (const app of readdirSync(path.join(dir, stage))) pairs.add(`${stage}/${app}`);
    }
  }
  if (pairs.size === 0) fail(`no packaged templates in ${before} or ${after}.`);
  const scratch = mkdtempSync(path.join(tmpdir(), 'package-templates-compare-'));
  let differing = 0;
  try {
    for (const pair of [...pairs].sort()) {
      const files = [before, after].map((dir) => path.join(dir, pair, TEMPLATE));
      const missing = files.filter((file) => !existsSync(file));
      if (missing.length > 0) {
        differing += 1;
        console.log(`DIFFERS  ${pair}: no ${missing.join(', ')}`);
        continue;
      }
      const [a, b] = files.map((file, index) => {
        const copy = path.join(scratch, `${pair.replace('/', '-')}-${index === 0 ? 'before' : 'after'}.json`);
        writeFileSync(copy, normalised(file));
        return copy;
      });
      const diff = spawnSync('diff', ['-u', '--label', `before/${pair}`, '--label', `after/${pair}`, a, b], { encoding: 'utf8' });
      if (diff.status === 0) {
        console.log(`same     ${pair}`);
      } else {
        differing += 1;
        console.log(`DIFFERS  ${pair}\n${diff.stdout}${diff.stderr}`);
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  console.log(`${pairs.size - differing} of ${pairs.size} templates the same (sorted keys, artifact timestamps ignored).`);
  process.exit(differing === 0 ? 0 : 1);
}

function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { out: { type: 'string' }, root: { type: 'string' }, stage: { type: 'string', default: 'stg,prod' } },
  });
  const [command, ...rest] = positionals;
  if (command === 'package' && values.out && rest.length === 0) {
    const stages = values.stage.split(',').map((stage) => stage.trim());
    if (stages.some((stage) => !['stg', 'prod'].includes(stage))) fail(`stages are stg and prod; got ${values.stage}.`);
    packageAll({ out: path.resolve(values.out), root: path.resolve(values.root ?? workspaceRoot), stages });
  } else if (command === 'compare' && rest.length === 2) {
    compare(path.resolve(rest[0]), path.resolve(rest[1]));
  } else {
    fail(
      'usage: package-templates.mjs package --out <dir> [--root <workspace>] [--stage stg,prod] | package-templates.mjs compare <before dir> <after dir>',
    );
  }
}

main();

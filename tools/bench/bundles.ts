import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_APPS, type BenchApp } from './function-env';
import { WORKSPACE } from './workspace';

export { BENCH_APPS, type BenchApp } from './function-env';

/** A built function: its bundle and zip, as bundle-lambdas.mjs writes them. */
export interface BuiltFunction {
  readonly app: BenchApp;
  readonly name: string;
  readonly indexJs: string;
  readonly zip: string;
}

/** What a bundle of an app is built from; a file newer than the bundle means dist is stale. */
const sourcesOf = (app: BenchApp): string[] => [
  `apps/${app}/src`,
  'libs/cache-domain/src',
  'libs/aws-adapters/src',
  'libs/alma-api/src',
  'package-lock.json',
  'tools/scripts/bundle-lambdas.mjs',
];

const newestMtime = (path: string): number => {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((newest, entry) => Math.max(newest, newestMtime(join(path, entry))), stat.mtimeMs);
};

/** The functions of an app, named after its handler files, as the bundler discovers them. */
export const functionsOf = (app: BenchApp): BuiltFunction[] =>
  readdirSync(join(WORKSPACE, 'apps', app, 'src', 'handlers'))
    .filter((file) => file.endsWith('.ts') && !/\.(spec|test|d)\.ts$/.test(file))
    .map((file) => file.slice(0, -'.ts'.length))
    .sort()
    .map((name) => ({
      app,
      name,
      indexJs: join(WORKSPACE, 'dist', 'apps', app, name, 'index.js'),
      zip: join(WORKSPACE, 'dist', 'apps', app, `${name}.zip`),
    }));

const run = (command: string, args: string[], log: (line: string) => void) => {
  log(`$ ${[command, ...args].join(' ')}`);
  const { status, stdout, stderr } = spawnSync(command, args, {
    cwd: WORKSPACE,
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
    encoding: 'utf8',
  });
  if (status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${status}):\n${stdout}\n${stderr}`);
};

/**
 * Makes sure dist holds bundles built from the current sources, as Lambda would run them: reuses them when no
 * source is newer, otherwise runs the app's own `nx run <app>:build` (the one definition of how it is bundled).
 */
export const ensureBundles = (log: (line: string) => void): Record<BenchApp, BuiltFunction[]> => {
  const built = {} as Record<BenchApp, BuiltFunction[]>;
  for (const app of BENCH_APPS) {
    const functions = functionsOf(app);
    const oldest = Math.min(...functions.map((fn) => (existsSync(fn.indexJs) && existsSync(fn.zip) ? statSync(fn.indexJs).mtimeMs : 0)));
    const newestSource = Math.max(...sourcesOf(app).map((path) => newestMtime(join(WORKSPACE, path))));
    if (oldest < newestSource) run(join(WORKSPACE, 'node_modules', '.bin', 'nx'), ['run', `${app}:build`, '--outputStyle=static'], log);
    else log(`${app}: reusing dist/apps/${app} (newer than its sources)`);
    built[app] = functions;
  }
  return built;
};

/** The baseline of each app: a bare handler that builds the same SDK clients (tools/bench/baseline). */
export const BASELINE_OF: Record<BenchApp, string> = {
  'sns-lambdas': 'sns-baseline',
  'refresh-lambdas': 'refresh-baseline',
  'query-api': 'query-baseline',
  'webhook-receiver': 'webhook-baseline',
  'change-lambdas': 'change-baseline',
};

/** Bundles built beside the baselines for the init-cost figure only (baseline/sns-container.ts: the floor through inversify). */
export const VARIANTS = ['sns-container'] as const;
export type Variant = (typeof VARIANTS)[number];

/**
 * Builds the baseline bundles (tools/bench/baseline/*.ts) and the variants with the same bundler and options as the real
 * functions, into tmp/bench/baseline, so sizes and cold starts compare like with like.
 */
export const buildBaselines = (log: (line: string) => void): Record<BenchApp, BuiltFunction> => {
  const out = join('tmp', 'bench', 'baseline');
  const names = [...BENCH_APPS.map((app) => BASELINE_OF[app]), ...VARIANTS];
  run(process.execPath, ['tools/scripts/bundle-lambdas.mjs', '--app', 'tools/bench', '--handlers-dir', 'baseline', '--out', out, ...names], log);
  const baseline = (app: BenchApp): BuiltFunction => ({
    app,
    name: BASELINE_OF[app],
    indexJs: join(WORKSPACE, out, BASELINE_OF[app], 'index.js'),
    zip: join(WORKSPACE, out, `${BASELINE_OF[app]}.zip`),
  });
  return Object.fromEntries(BENCH_APPS.map((app) => [app, baseline(app)])) as Record<BenchApp, BuiltFunction>;
};

/** Where {@link buildBaselines} put a variant's bundle. */
export const variantBundle = (variant: Variant): BuiltFunction => ({
  app: 'sns-lambdas',
  name: variant,
  indexJs: join(WORKSPACE, 'tmp', 'bench', 'baseline', variant, 'index.js'),
  zip: join(WORKSPACE, 'tmp', 'bench', 'baseline', `${variant}.zip`),
});

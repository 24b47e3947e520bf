import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import type { CacheTableNames } from '@alma-cache/aws-adapters';
import type { BenchApp, BuiltFunction } from './bundles';
import { type BenchRow, type ChartBar, type FigureResult, overallVerdict, verdictOf } from './figure';
import { APP_LABEL, functionEnv } from './function-env';
import { fmt, spread } from './stats';
import { zipEntries } from './zip-entries';

export const COLD_START_GOAL = 1.2;
export const BUNDLE_SIZE_GOAL_KIB = 120;

// Runs inside a fresh `node`: performance.now() counts from the process's time origin, so `readyMs` is the time
// from process start to a handler ready to take its first invocation, and `importMs` the require alone (module
// evaluation and, for the real functions, the composition root building the container).
const PROBE = [
  'const t0 = performance.now();',
  'const mod = require(process.argv[1]);',
  'const t1 = performance.now();',
  "if (typeof mod.handler !== 'function') { process.stderr.write('no handler export'); process.exit(2); }",
  'process.stdout.write(JSON.stringify({ importMs: t1 - t0, readyMs: t1 }));',
].join('\n');

/** One fresh-process start of a bundle. */
export interface Probe {
  importMs: number;
  readyMs: number;
  wallMs: number;
}

/** Starts a fresh `node` that requires `bundle` with exactly `env`, and reports how long the require took. */
export const probe = (bundle: string, env: Record<string, string>): Promise<Probe> =>
  new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['-e', PROBE, bundle], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0) return reject(new Error(`cold start of ${bundle} failed (exit ${code}): ${stderr.slice(-2000)}`));
      resolve({ ...(JSON.parse(stdout) as { importMs: number; readyMs: number }), wallMs });
    });
  });

/**
 * Cold start of every built function against the bare-SDK baseline of its service: `runs` rounds, each starting
 * every bundle once, in a rotating order, right beside a start of its baseline; each ratio is taken within its pair,
 * so a busy moment of the machine lands on both sides.
 */
export const measureColdStart = async (
  functions: Record<BenchApp, BuiltFunction[]>,
  baselines: Record<BenchApp, BuiltFunction>,
  tables: Required<CacheTableNames>,
  awsEnv: Record<string, string>,
  runs: number,
): Promise<FigureResult> => {
  const apps = Object.keys(functions) as BenchApp[];
  const envs = new Map(apps.map((app) => [app, functionEnv(app, tables, awsEnv)]));
  const start = (target: BuiltFunction) => probe(target.indexJs, envs.get(target.app) ?? {});
  // One untimed start of each fills the OS file cache, as a second Lambda cold start on the same host would find it.
  for (const target of apps.flatMap((app) => [baselines[app], ...functions[app]])) await start(target);
  // Each bundle is started right beside a start of its baseline (before it in even rounds, after it in odd ones):
  // on a machine whose load changes by the second, only a tight pair gives a ratio worth keeping.
  const pairs = new Map<BuiltFunction, { own: Probe; base: Probe }[]>(apps.flatMap((app) => functions[app].map((fn) => [fn, []])));
  const baseProbes = new Map<BenchApp, Probe[]>(apps.map((app) => [app, []]));
  const everyFunction = apps.flatMap((app) => functions[app]);
  for (let round = 0; round < runs; round += 1) {
    for (let i = 0; i < everyFunction.length; i += 1) {
      const fn = everyFunction[(i + round) % everyFunction.length];
      const baseFirst = round % 2 === 0;
      const first = await start(baseFirst ? baselines[fn.app] : fn);
      const second = await start(baseFirst ? fn : baselines[fn.app]);
      const pair = baseFirst ? { own: second, base: first } : { own: first, base: second };
      pairs.get(fn)?.push(pair);
      baseProbes.get(fn.app)?.push(pair.base);
    }
  }

  const rows: BenchRow[] = [];
  const bars: ChartBar[] = [];
  const floor =
    'bare handler of the same app (baseline/*-baseline.ts) bundled the same way, building the same SDK clients and the same ' +
    'Powertools logger and metrics at module scope; started right beside it. Why: every function must build these to do ' +
    'its job, so their cost is the least any correct function pays';
  for (const app of apps) {
    const base = baseProbes.get(app) ?? [];
    const baseImport = spread(base.map((p) => p.importMs));
    rows.push({
      figure: 'Cold start',
      subject: `${app} floor (bare handler, same SDK clients, logger and metrics)`,
      measured: `import ${fmt(baseImport.median, 0)} ms (${fmt(baseImport.min, 0)}–${fmt(baseImport.max, 0)}), ready ${fmt(spread(base.map((p) => p.readyMs)).median, 0)} ms after process start, process ${fmt(spread(base.map((p) => p.wallMs)).median, 0)} ms`,
      goal: '— (the floor)',
      floor: 'the floor itself (absolute times, this machine)',
      original: '',
      verdict: 'info',
      values: [baseImport.median],
    });
    for (const fn of functions[app]) {
      const own = pairs.get(fn) ?? [];
      const importRatio = spread(own.map((p) => p.own.importMs / p.base.importMs));
      const readyRatio = spread(own.map((p) => p.own.readyMs / p.base.readyMs));
      const wallRatio = spread(own.map((p) => p.own.wallMs / p.base.wallMs));
      // The fastest start of each is the one least disturbed by the rest of the machine.
      const fastestRatio = Math.min(...own.map((p) => p.own.importMs)) / Math.min(...own.map((p) => p.base.importMs));
      rows.push({
        figure: 'Cold start',
        subject: `${app}/${fn.name}: import + container build ÷ floor`,
        measured:
          `${fmt(importRatio.median)}× (min ${fmt(importRatio.min)}, max ${fmt(importRatio.max)}); ${fmt(spread(own.map((p) => p.own.importMs)).median, 0)} ms; ` +
          `fastest ÷ fastest ${fmt(fastestRatio)}×; ready ${fmt(readyRatio.median)}×, whole process ${fmt(wallRatio.median)}×`,
        goal: `≤ ${COLD_START_GOAL}× (median and fastest ÷ fastest)`,
        floor,
        original: '',
        verdict: verdictOf(importRatio.median <= COLD_START_GOAL && fastestRatio <= COLD_START_GOAL),
        values: [importRatio.min, importRatio.median, importRatio.max, fastestRatio, readyRatio.median, wallRatio.median],
      });
      bars.push({ label: `${APP_LABEL[app]}/${fn.name}`, spread: importRatio, goal: COLD_START_GOAL });
    }
  }
  const goalRows = rows.filter((row) => row.verdict !== 'info');
  const ratios = goalRows.map((row) => row.values[1]);
  const worst = spread(ratios);
  const fastest = spread(goalRows.map((row) => row.values[3]));
  const verdict = overallVerdict(rows);
  return {
    key: 'cold-start',
    summary:
      `[bench] cold start (import + container build vs the bare floor: same SDK clients, logger and metrics; ${runs} paired runs per bundle): ` +
      `median ratio ${fmt(worst.min)}–${fmt(worst.max)}x, fastest ÷ fastest ${fmt(fastest.min)}–${fmt(fastest.max)}x across ${ratios.length} bundles ` +
      `(goal <= ${COLD_START_GOAL}x for both) ${verdict}`,
    rows,
    panels: [{ title: 'Cold start: import + container build ÷ bare floor', unit: '× floor', bars }],
  };
};

const kib = (bytes: number) => bytes / 1024;

/** The file a function loads only when tracing is on (bundle-lambdas.mjs "Lazy chunks"). */
export const TRACING_CHUNK = 'powertools-tracer.js';

/** Files a function loads only when tracing is on: {@link TRACING_CHUNK} and its source map. */
export const TRACING_FILES: readonly string[] = [TRACING_CHUNK, `${TRACING_CHUNK}.map`];

/** Bytes a function's zip spends on its files: all of them, and those a stage with tracing off never loads. */
export const zipBytes = (zip: string): { all: number; tracing: number } => {
  const entries = zipEntries(zip);
  return {
    all: entries.reduce((sum, entry) => sum + entry.zippedBytes, 0),
    tracing: entries.filter((entry) => TRACING_FILES.includes(entry.name)).reduce((sum, entry) => sum + entry.zippedBytes, 0),
  };
};

/**
 * index.js (what Node parses at a cold start) and zip (what Lambda downloads) of each function against its baseline.
 * The zip is compared without the tracing file, which only a traced stage loads: its cost is the tracing figure's.
 */
export const measureBundleSizes = (functions: Record<BenchApp, BuiltFunction[]>, baselines: Record<BenchApp, BuiltFunction>): FigureResult => {
  const rows: BenchRow[] = [];
  const bars: ChartBar[] = [];
  for (const app of Object.keys(functions) as BenchApp[]) {
    const base = { js: statSync(baselines[app].indexJs).size, zip: zipBytes(baselines[app].zip).all };
    for (const fn of functions[app]) {
      const zip = zipBytes(fn.zip);
      const own = { js: statSync(fn.indexJs).size, zip: zip.all - zip.tracing };
      const delta = { js: kib(own.js - base.js), zip: kib(own.zip - base.zip) };
      rows.push({
        figure: 'Bundle size',
        subject: `${app}/${fn.name}`,
        measured:
          `index.js ${fmt(kib(own.js), 1)} KiB (+${fmt(delta.js, 1)} over ${fmt(kib(base.js), 1)}); ` +
          `zip ${fmt(kib(own.zip), 1)} KiB (+${fmt(delta.zip, 1)} over ${fmt(kib(base.zip), 1)}) + ${fmt(kib(zip.tracing), 1)} KiB tracing file`,
        goal: `≤ +${BUNDLE_SIZE_GOAL_KIB} KiB, index.js and zip (without the tracing file)`,
        floor: `the app's bare floor bundle (${fmt(kib(base.js), 1)} KiB index.js): the SDK clients, logger and metrics every function of the app needs`,
        original: '',
        verdict: verdictOf(delta.js <= BUNDLE_SIZE_GOAL_KIB && delta.zip <= BUNDLE_SIZE_GOAL_KIB),
        values: [own.js, base.js, delta.js, own.zip, base.zip, delta.zip, zip.tracing],
      });
      bars.push({ label: `${APP_LABEL[app]}/${fn.name} index.js`, spread: spread([delta.js]), goal: BUNDLE_SIZE_GOAL_KIB });
      bars.push({ label: `${APP_LABEL[app]}/${fn.name} zip`, spread: spread([delta.zip]), goal: BUNDLE_SIZE_GOAL_KIB });
    }
  }
  const verdict = overallVerdict(rows);
  const worstJs = Math.max(...rows.map((row) => row.values[2]));
  const worstZip = Math.max(...rows.map((row) => row.values[5]));
  const worstRow = rows.reduce((worst, row) => (row.values[2] > worst.values[2] ? row : worst), rows[0]);
  return {
    key: 'bundle-size',
    summary:
      `[bench] bundle size vs the bare floor: at most index.js +${fmt(worstJs, 1)} KiB (${worstRow.subject}), zip +${fmt(worstZip, 1)} KiB ` +
      `over ${rows.length} bundles (goal <= +${BUNDLE_SIZE_GOAL_KIB} KiB) ${verdict}`,
    rows,
    panels: [{ title: 'Bundle size over the bare floor', unit: 'KiB', bars }],
  };
};

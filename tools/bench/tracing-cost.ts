import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CacheTableNames } from '@alma-cache/aws-adapters';
import type { BenchApp, BuiltFunction } from './bundles';
import { type ChartBar, type FigureResult, type BenchRow } from './figure';
import { APP_LABEL, functionEnv, LAMBDA_RUNTIME_ENV } from './function-env';
import { type Probe, probe, TRACING_CHUNK, zipBytes } from './cold-start';
import { fmt, spread } from './stats';

/**
 * What tracing costs (POWERTOOLS_TRACE_ENABLED=true against false, the same bundle and otherwise the same Lambda-like
 * environment): the cold start of one function per app, in pairs alternating their order, and the bytes of the file
 * only a traced stage loads. No goal: the issue asks for the cost, measured in the same run.
 */
export const measureTracingCost = async (
  functions: Record<BenchApp, BuiltFunction[]>,
  tables: Required<CacheTableNames>,
  awsEnv: Record<string, string>,
  runs: number,
): Promise<FigureResult> => {
  const apps = Object.keys(functions) as BenchApp[];
  const targets = apps.map((app) => functions[app][0]);
  // Once per target, not per probe: functionEnv reads and parses the app's serverless.yml.
  const envs = new Map(
    targets.map((fn) => [
      fn,
      {
        on: { ...functionEnv(fn.app, tables, awsEnv, true), ...LAMBDA_RUNTIME_ENV },
        off: { ...functionEnv(fn.app, tables, awsEnv, false), ...LAMBDA_RUNTIME_ENV },
      },
    ]),
  );
  const envOf = (fn: BuiltFunction, tracing: boolean): Record<string, string> => {
    const env = envs.get(fn);
    if (!env) throw new Error(`no environment for ${fn.app}/${fn.name}`);
    return tracing ? env.on : env.off;
  };
  for (const fn of targets) {
    await probe(fn.indexJs, envOf(fn, false));
    await probe(fn.indexJs, envOf(fn, true));
  }
  const pairs = new Map<BuiltFunction, { on: Probe; off: Probe }[]>(targets.map((fn) => [fn, []]));
  for (let round = 0; round < runs; round += 1) {
    for (const fn of targets) {
      const offFirst = round % 2 === 0;
      const first = await probe(fn.indexJs, envOf(fn, !offFirst));
      const second = await probe(fn.indexJs, envOf(fn, offFirst));
      pairs.get(fn)?.push(offFirst ? { off: first, on: second } : { on: first, off: second });
    }
  }

  const rows: BenchRow[] = [];
  const bars: ChartBar[] = [];
  for (const fn of targets) {
    const own = pairs.get(fn) ?? [];
    const ratio = spread(own.map((p) => p.on.importMs / p.off.importMs));
    const added = spread(own.map((p) => p.on.importMs - p.off.importMs));
    const chunk = join(dirname(fn.indexJs), TRACING_CHUNK);
    const chunkKiB = existsSync(chunk) ? statSync(chunk).size / 1024 : 0;
    const zipKiB = zipBytes(fn.zip).tracing / 1024;
    rows.push({
      figure: 'Tracing cost',
      subject: `${fn.app}/${fn.name}: tracing on ÷ off`,
      measured:
        `cold start ${fmt(ratio.median)}× (min ${fmt(ratio.min)}, max ${fmt(ratio.max)}), +${fmt(added.median, 0)} ms; ` +
        `${TRACING_CHUNK} ${fmt(chunkKiB, 1)} KiB loaded only when on (index.js +0), zip +${fmt(zipKiB, 1)} KiB`,
      goal: '— (information)',
      floor: 'the same bundle with tracing off, paired starts: the difference is what tracing adds',
      original: '',
      verdict: 'info',
      values: [ratio.min, ratio.median, ratio.max, added.median, chunkKiB, zipKiB],
    });
    bars.push({ label: `${APP_LABEL[fn.app]}/${fn.name}`, spread: ratio });
  }
  const ratios = spread(rows.map((row) => row.values[1]));
  return {
    key: 'tracing',
    summary:
      `[bench] tracing cost (POWERTOOLS_TRACE_ENABLED=true vs false, ${runs} paired cold starts per function): cold start ${fmt(ratios.min)}–${fmt(ratios.max)}x ` +
      `across ${rows.length} functions; index.js unchanged, the tracer file (${fmt(rows[0]?.values[4] ?? 0, 1)} KiB) is read only when on info`,
    rows,
    panels: [{ title: 'Tracing on ÷ off: import + container build', unit: '× tracing off', bars }],
  };
};

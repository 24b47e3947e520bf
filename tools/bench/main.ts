import { cp, rm } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { buildBaselines, ensureBundles, variantBundle } from './bundles';
import { measureBundleSizes, measureColdStart } from './cold-start';
import { startBenchEnvironment } from './environment';
import { measureEventCost } from './event-cost';
import { measureInitCost } from './init-cost';
import type { FigureResult } from './figure';
import { benchOptions } from './options';
import { measureQueryLatency } from './query-latency';
import { measureRefresh } from './refresh';
import { writeReport } from './report';
import { measureThroughput } from './throughput';
import { measureTracingCost } from './tracing-cost';
import { WORKSPACE } from './workspace';

const started = performance.now();
const say = (line: string) => process.stdout.write(`${line}\n`);
const progress = (line: string) => say(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}`);

/** Runs every figure in turn (never two at once: they would measure each other) and writes the report. */
export const main = async (argv: readonly string[]): Promise<void> => {
  const options = benchOptions(argv);
  const startedAt = new Date().toISOString();
  const loadBefore = loadavg();
  progress(`bench (${options.mode}): bundles…`);
  const functions = ensureBundles(progress);
  const baselines = buildBaselines(progress);
  const environment = await startBenchEnvironment(progress);
  const figures: FigureResult[] = [];
  const figure = async (name: string, measure: () => Promise<FigureResult> | FigureResult) => {
    progress(`${name}…`);
    const result = await measure();
    figures.push(result);
    say(result.summary);
  };
  try {
    await figure('DynamoDB cost per event', () => measureEventCost(environment.tables, options.eventRepeats));
    await figure('handler throughput', () =>
      measureThroughput(environment.tables, environment.env, options.throughput, baselines['sns-lambdas'].indexJs),
    );
    await figure('cold start', () => measureColdStart(functions, baselines, environment.tables, environment.env, options.coldStartRuns));
    await figure('bundle sizes', () => measureBundleSizes(functions, baselines));
    await figure('query API latency', () =>
      measureQueryLatency(functions['query-api'][0], baselines['query-api'], environment.tables, environment.env, options.queryLatency),
    );
    await figure('tracing cost', () => measureTracingCost(functions, environment.tables, environment.env, options.coldStartRuns));
    await figure('init cost', () =>
      measureInitCost(
        functions,
        { sns: baselines['sns-lambdas'], snsContainer: variantBundle('sns-container') },
        environment.tables,
        environment.env,
        options.coldStartRuns,
      ),
    );
    await figure('refresh', () => measureRefresh(environment.tables, options.refreshSizes, options.refreshRepeats));
  } finally {
    await environment.stop();
  }

  const cpu = cpus();
  await writeReport(options.outDir, figures, {
    mode: options.mode,
    startedAt,
    seconds: (performance.now() - started) / 1000,
    machine: `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}`,
    loadBefore,
    loadAfter: loadavg(),
    node: process.version,
    emulator: environment.description,
    settings:
      `${options.eventRepeats} repeats of the 8 events; throughput ${options.throughput.repeats} × ${options.throughput.operations} events per side ` +
      `and batch shape; ${options.coldStartRuns} cold-start rounds (and tracing and init-cost pairs); query latency ` +
      `${options.queryLatency.repeats} × ${options.queryLatency.requests} requests; refresh ${options.refreshRepeats} repeats`,
  });
  say(`[bench] report: ${relative(WORKSPACE, join(options.outDir, 'bench.md'))} and bench.svg`);
  if (options.updateLatest) {
    const latest = join(WORKSPACE, 'tools', 'bench', 'reports', 'latest');
    await rm(latest, { recursive: true, force: true });
    await cp(options.outDir, latest, { recursive: true });
    say(`[bench] copied to ${relative(WORKSPACE, latest)}`);
  }
  say(`[bench] done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
};

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { CacheTableNames } from '@alma-cache/aws-adapters';
import { type FigureResult, verdictOf } from './figure';
import { functionEnv } from './function-env';
import { fmt, spread } from './stats';
import type { ThroughputReply, ThroughputRequest, ThroughputSample } from './throughput-worker';
import { WORKSPACE } from './workspace';

/** At 2 requests per event a handler cannot beat half the raw PutItem rate; the goal leaves 10 % for everything else. */
export const THROUGHPUT_LIMIT = 0.5;
export const THROUGHPUT_GOAL = 0.45;

/** How hard the throughput figure pushes. */
export interface ThroughputOptions {
  readonly concurrency: number;
  readonly operations: number;
  readonly repeats: number;
  readonly warmupOperations: number;
}

/**
 * Events per second through the four built sns-lambdas bundles, against raw PutItem per second on the same
 * DynamoDB Local at the same concurrency, both measured in one child process, repeat by repeat. The ratio is the
 * figure: absolute rates on a shared 2-core machine mean little, their ratio within one repeat does.
 */
export const measureThroughput = async (
  tables: Required<CacheTableNames>,
  env: Record<string, string>,
  options: ThroughputOptions,
  bundleDir = join(WORKSPACE, 'dist', 'apps', 'sns-lambdas'),
): Promise<FigureResult> => {
  const samples = await runWorker(
    {
      bundleDir,
      tables: { users: tables.users, loans: tables.loans, requests: tables.requests },
      ...options,
    },
    // The functions' own environment (serverless.yml); the queues are never sent to on the cached path.
    { ...functionEnv('sns-lambdas', tables, env), POWERTOOLS_SERVICE_NAME: 'alma-cache-sns-bench' },
  );
  const ratio = spread(samples.map((s) => s.eventsPerSecond / s.putsPerSecond));
  const events = spread(samples.map((s) => s.eventsPerSecond));
  const puts = spread(samples.map((s) => s.putsPerSecond));
  const cpuPerEvent = spread(samples.map((s) => s.cpuMsPerEvent));
  const cpuPerPut = spread(samples.map((s) => s.cpuMsPerPut));
  const verdict = verdictOf(ratio.median >= THROUGHPUT_GOAL);
  const measured = `${fmt(ratio.median)}× (min ${fmt(ratio.min)}, max ${fmt(ratio.max)})`;
  return {
    key: 'throughput',
    summary:
      `[bench] handler throughput: ${fmt(ratio.median)}x raw PutItem (min ${fmt(ratio.min)}, median ${fmt(ratio.median)}, max ${fmt(ratio.max)}; ` +
      `goal >= ${THROUGHPUT_GOAL}, limit ${THROUGHPUT_LIMIT} at 2 requests/event; ${fmt(events.median, 0)} events/s vs ${fmt(puts.median, 0)} puts/s, ` +
      `${options.concurrency} in flight, ${samples.length} repeats) ${verdict}`,
    rows: [
      {
        figure: 'Handler throughput',
        subject: `4 sns-lambdas bundles, ${options.concurrency} in flight, ${options.operations} events × ${samples.length}`,
        measured: `${measured} raw PutItem rate`,
        goal: `≥ ${THROUGHPUT_GOAL}× (limit ${THROUGHPUT_LIMIT}×)`,
        original: `≤ 0.33× (3 requests/event)`,
        verdict,
        values: [ratio.min, ratio.median, ratio.max],
      },
      {
        figure: 'Handler throughput',
        subject: 'absolute rates (this machine, this run)',
        measured:
          `${fmt(events.median, 0)} events/s (${fmt(events.min, 0)}–${fmt(events.max, 0)}); raw ${fmt(puts.median, 0)} PutItem/s (${fmt(puts.min, 0)}–${fmt(puts.max, 0)}); ` +
          `Node CPU ${fmt(cpuPerEvent.median)} ms/event vs ${fmt(cpuPerPut.median)} ms/put`,
        goal: '— (information)',
        original: '',
        verdict: 'info',
        values: [events.median, puts.median, cpuPerEvent.median, cpuPerPut.median],
      },
    ],
    panels: [
      {
        title: 'Handler throughput ÷ raw PutItem rate',
        unit: '× raw PutItem',
        higherIsBetter: true,
        bars: [{ label: 'sns-lambdas', spread: ratio, goal: THROUGHPUT_GOAL, original: 1 / 3 }],
      },
    ],
  };
};

const runWorker = (request: ThroughputRequest, env: Record<string, string>): Promise<ThroughputSample[]> =>
  new Promise((resolve, reject) => {
    // BENCH_CPU_PROF=<dir>: the worker writes a V8 CPU profile there (node --cpu-prof), to see where an event's time goes.
    const profile = process.env['BENCH_CPU_PROF'] ? ['--cpu-prof', '--cpu-prof-dir', process.env['BENCH_CPU_PROF']] : [];
    const child = spawn(process.execPath, [...profile, '--import', 'tsx', join(__dirname, 'throughput-worker.ts')], {
      cwd: WORKSPACE,
      env: { ...process.env, ...env, TSX_TSCONFIG_PATH: join(WORKSPACE, 'tsconfig.base.json'), BENCH_THROUGHPUT: JSON.stringify(request) },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    let reply: ThroughputReply | undefined;
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.on('message', (message) => {
      reply = message as ThroughputReply;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (reply && 'samples' in reply) resolve(reply.samples);
      else reject(new Error(`throughput worker failed (exit ${code}): ${reply && 'error' in reply ? reply.error : ''}\n${stderr}`));
    });
  });

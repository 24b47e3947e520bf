import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { CacheTableNames } from '@alma-cache/aws-adapters';
import { type BenchRow, type ChartBar, type FigureResult, overallVerdict, verdictOf } from './figure';
import { functionEnv } from './function-env';
import { fmt, spread } from './stats';
import type { BatchShape, ThroughputReply, ThroughputRequest, ThroughputSample } from './throughput-worker';
import { WORKSPACE } from './workspace';

/** The handlers must keep this share of the bare floor's rate: the rest is what validation, logs and metrics may cost. */
export const THROUGHPUT_GOAL = 0.85;

/** As deployed (serverless.yml: batchSize 10, maximumConcurrency 5), then one-message events at 16 in flight. */
export const THROUGHPUT_SHAPES: readonly BatchShape[] = [
  { batchSize: 10, inFlight: 5 },
  { batchSize: 1, inFlight: 16 },
];

/** How hard the throughput figure pushes. */
export interface ThroughputOptions {
  /** Events per side, per repeat and shape. */
  readonly operations: number;
  readonly repeats: number;
  readonly warmupOperations: number;
}

const THROUGHPUT_FLOOR =
  'bare handler (baseline/sns-baseline.ts), same process, same DynamoDB Local, one copy per function as the four functions ' +
  'are four bundles (own SDK client and connections): per message the same two conditional writes ' +
  '(PutItem of the record with the event-time condition and ALL_OLD, UpdateItem ADD/DELETE of the id on the Users row) for ' +
  'cached patrons, same batches, same concurrency. Why: no correct handler can write less per event (issue 6), so this is ' +
  'its rate with zero overhead';

const shapeLabel = (shape: BatchShape) =>
  shape.batchSize === 1
    ? `1-message events, ${shape.inFlight} in flight`
    : `batches of ${shape.batchSize}, ${shape.inFlight} in flight (as deployed)`;

/**
 * Events per second through the four built sns-lambdas bundles against the bare floor (the same two conditional
 * writes per event, nothing else), both measured in one child process, repeat by repeat, in alternating slices, for
 * each batch shape. The ratio is the figure: absolute rates on a shared 2-core machine mean little, their ratio
 * within one repeat does.
 */
export const measureThroughput = async (
  tables: Required<CacheTableNames>,
  env: Record<string, string>,
  options: ThroughputOptions,
  floorBundle: string,
  bundleDir = join(WORKSPACE, 'dist', 'apps', 'sns-lambdas'),
): Promise<FigureResult> => {
  const samples = await runWorker(
    {
      bundleDir,
      floorBundle,
      tables: { users: tables.users, loans: tables.loans, requests: tables.requests },
      shapes: THROUGHPUT_SHAPES,
      ...options,
    },
    // The functions' own environment (serverless.yml); the queues are never sent to on the cached path.
    { ...functionEnv('sns-lambdas', tables, env), POWERTOOLS_SERVICE_NAME: 'alma-cache-sns-bench' },
  );
  const rows: BenchRow[] = [];
  const bars: ChartBar[] = [];
  const summaries: string[] = [];
  for (const shape of THROUGHPUT_SHAPES) {
    const own = samples.filter((s) => s.shape.batchSize === shape.batchSize && s.shape.inFlight === shape.inFlight);
    const ratio = spread(own.map((s) => s.eventsPerSecond / s.floorEventsPerSecond));
    const events = spread(own.map((s) => s.eventsPerSecond));
    const floor = spread(own.map((s) => s.floorEventsPerSecond));
    const cpu = spread(own.map((s) => s.cpuMsPerEvent));
    const floorCpu = spread(own.map((s) => s.cpuMsPerFloorEvent));
    const verdict = verdictOf(ratio.median >= THROUGHPUT_GOAL);
    summaries.push(`${shapeLabel(shape)}: ${fmt(ratio.median)}x (min ${fmt(ratio.min)}, max ${fmt(ratio.max)}) ${verdict}`);
    rows.push({
      figure: 'Handler throughput',
      subject: `4 sns-lambdas bundles ÷ bare two-write floor, ${shapeLabel(shape)}, ${options.operations} events × ${own.length}`,
      measured:
        `${fmt(ratio.median)}× (min ${fmt(ratio.min)}, max ${fmt(ratio.max)}); ${fmt(events.median, 0)} vs ${fmt(floor.median, 0)} events/s; ` +
        `Node CPU ${fmt(cpu.median)} vs ${fmt(floorCpu.median)} ms/event`,
      goal: `≥ ${THROUGHPUT_GOAL}× the floor`,
      floor: THROUGHPUT_FLOOR,
      original: '',
      verdict,
      values: [ratio.min, ratio.median, ratio.max, events.median, floor.median, cpu.median, floorCpu.median],
    });
    bars.push({
      label: shape.batchSize === 1 ? 'sns, 1-message events' : `sns, batches of ${shape.batchSize}`,
      spread: ratio,
      goal: THROUGHPUT_GOAL,
    });
  }
  const verdict = overallVerdict(rows);
  return {
    key: 'throughput',
    summary:
      `[bench] handler throughput vs the bare two-write floor (goal >= ${THROUGHPUT_GOAL}x, ${samples.length / THROUGHPUT_SHAPES.length} repeats): ` +
      `${summaries.join('; ')} ${verdict}`,
    rows,
    panels: [{ title: 'Handler throughput ÷ bare two-write handler', unit: '× floor', higherIsBetter: true, bars }],
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

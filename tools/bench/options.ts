import { parseArgs } from 'node:util';
import { join } from 'node:path';
import type { QueryLatencyOptions } from './query-latency';
import type { PatronSize } from './refresh';
import type { ThroughputOptions } from './throughput';
import { WORKSPACE } from './workspace';

/** Everything a run varies: how many repeats of what, and where the report goes. */
export interface BenchOptions {
  readonly mode: 'quick' | 'full';
  readonly eventRepeats: number;
  readonly throughput: ThroughputOptions;
  readonly coldStartRuns: number;
  readonly queryLatency: QueryLatencyOptions;
  readonly refreshSizes: readonly PatronSize[];
  readonly refreshRepeats: number;
  /** Where bench.md/svg/json go; `latest` is also refreshed after a full run into tools/bench/reports. */
  readonly outDir: string;
  readonly updateLatest: boolean;
}

const FULL_SIZES: PatronSize[] = [
  { loans: 5, requests: 1, fees: 0 },
  { loans: 25, requests: 5, fees: 2 },
  { loans: 120, requests: 10, fees: 3 },
  { loans: 250, requests: 12, fees: 3 },
  { loans: 1000, requests: 20, fees: 5 },
];
// One patron on a single page and one that needs a second page of loans: paging is the point of the figure.
const QUICK_SIZES: PatronSize[] = [FULL_SIZES[0], FULL_SIZES[2]];

const stamp = (date: Date) =>
  date
    .toISOString()
    .replace(/[:.]/g, '-')
    .replace(/-\d{3}Z$/, 'Z');

/**
 * Reads `--quick`, `--repeats N` and `--out DIR`. Quick mode is the CI smoke test: tiny repeats and sizes, a
 * report in tmp/bench/quick, no claim about the numbers. `--repeats` sets every figure's repeats (cold start
 * gets twice as many rounds, its runs are short).
 *
 * @example
 * benchOptions(['--quick']).throughput.repeats; // 2
 */
export const benchOptions = (argv: readonly string[], now = new Date()): BenchOptions => {
  // Nx forwards a flag given to `nx run tools:bench --quick` as `--quick=true`.
  const args = argv.flatMap((arg) => (arg === '--quick=true' ? ['--quick'] : arg === '--quick=false' ? [] : [arg]));
  const { values } = parseArgs({
    args,
    options: { quick: { type: 'boolean', default: false }, repeats: { type: 'string' }, out: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  const quick = values.quick === true;
  const repeats = values.repeats === undefined ? undefined : Number(values.repeats);
  if (repeats !== undefined && (!Number.isInteger(repeats) || repeats < 1))
    throw new Error(`--repeats must be a whole number >= 1, got "${values.repeats}"`);
  const base: Omit<BenchOptions, 'outDir' | 'updateLatest'> = quick
    ? {
        mode: 'quick',
        eventRepeats: 1,
        throughput: { operations: 80, repeats: 2, warmupOperations: 40 },
        coldStartRuns: 2,
        queryLatency: { requests: 40, repeats: 2, warmupRequests: 20 },
        refreshSizes: QUICK_SIZES,
        refreshRepeats: 1,
      }
    : {
        mode: 'full',
        eventRepeats: 5,
        throughput: { operations: 800, repeats: 7, warmupOperations: 200 },
        coldStartRuns: 15,
        queryLatency: { requests: 400, repeats: 7, warmupRequests: 100 },
        refreshSizes: FULL_SIZES,
        refreshRepeats: 3,
      };
  const withRepeats =
    repeats === undefined
      ? base
      : {
          ...base,
          eventRepeats: repeats,
          throughput: { ...base.throughput, repeats },
          coldStartRuns: repeats * 2,
          queryLatency: { ...base.queryLatency, repeats },
          refreshRepeats: repeats,
        };
  const outDir = values.out
    ? join(process.cwd(), values.out)
    : quick
      ? join(WORKSPACE, 'tmp', 'bench', 'quick')
      : join(WORKSPACE, 'tools', 'bench', 'reports', stamp(now));
  return { ...withRepeats, outDir, updateLatest: !quick && values.out === undefined };
};

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { CacheTableNames } from '@alma-cache/aws-adapters';
import type { BuiltFunction } from './bundles';
import { type FigureResult, verdictOf } from './figure';
import { functionEnv } from './function-env';
import type { MissPathUse } from './miss-path';
import type { QueryLatencyReply, QueryLatencyRequest, QueryLatencySample, RequestsPerHit } from './query-latency-worker';
import { fmt, spread } from './stats';
import { WORKSPACE } from './workspace';

/** A cache hit may cost the caller at most this much more handler time than the bare floor (the same two reads). */
export const QUERY_LATENCY_GOAL = 1.3;

/** How many requests the query-latency figure times. */
export interface QueryLatencyOptions {
  readonly requests: number;
  readonly repeats: number;
  readonly warmupRequests: number;
}

/**
 * Handler time of a cache hit (`GET /users/{id}/loans/{loanId}` for a cached patron, through the built query-api
 * bundle: access rule, log pepper, two parallel GetItems, the record's checks, the log line and metrics) against the
 * bare floor doing the same two parallel GetItems (the patron's Users row and the loan) on the same DynamoDB Local,
 * both warm in one child process, one request at a time, slices alternating. Per repeat the ratio of the two medians.
 * The requests each side sent for one hit are recorded: a hit that read more than its floor would fail the figure.
 */
export const measureQueryLatency = async (
  queryApi: BuiltFunction,
  baseline: BuiltFunction,
  tables: Required<CacheTableNames>,
  awsEnv: Record<string, string>,
  options: QueryLatencyOptions,
): Promise<FigureResult> => {
  const { samples, requestsPerHit, missPath } = await runWorker(
    { queryBundle: queryApi.indexJs, baselineBundle: baseline.indexJs, tables, ...options },
    // The function's own environment, as for its cold start; the SDK's endpoint variables come with awsEnv.
    { ...functionEnv('query-api', tables, awsEnv), POWERTOOLS_SERVICE_NAME: 'alma-cache-query-bench' },
  );
  const ratio = spread(samples.map((s) => s.queryMs / s.baselineMs));
  const query = spread(samples.map((s) => s.queryMs));
  const bare = spread(samples.map((s) => s.baselineMs));
  const sameReads = requestsPerHit.query.join() === requestsPerHit.baseline.join();
  const verdict = verdictOf(ratio.median <= QUERY_LATENCY_GOAL && sameReads);
  // Failing: any miss-path function run, or the Alma client's modules evaluated. A module of the rebuild evaluated at
  // init (a class defined, nothing built) is listed but allowed: it sits in the domain barrel the hit path imports.
  const early = [...missPath.atInit, ...missPath.duringHits];
  const missRan = early.filter((entry) => !entry.startsWith('module ') || entry.includes('libs/alma-api/')).length;
  const missVerdict = verdictOf(missRan === 0);
  const listed = (names: readonly string[]) =>
    names.length === 0 ? 'none' : `${names.length} (${names.slice(0, 6).join(', ')}${names.length > 6 ? ', …' : ''})`;
  const reads = `hit sent ${requestsPerHit.query.join(' + ') || 'nothing'}, floor sent ${requestsPerHit.baseline.join(' + ') || 'nothing'}`;
  return {
    key: 'query-latency',
    summary:
      `[bench] query API cache hit: ${fmt(ratio.median)}x the bare two-read floor (min ${fmt(ratio.min)}, median ${fmt(ratio.median)}, max ${fmt(ratio.max)}; ` +
      `${fmt(query.median, 2)} ms vs ${fmt(bare.median, 2)} ms median handler time, ${samples.length} repeats; ${reads}; goal <= ${QUERY_LATENCY_GOAL}x) ${verdict}; ` +
      `miss path before a miss: ${missRan} Alma-client modules or miss-path functions run (${early.length - missRan} rebuild/guard modules evaluated) ${missVerdict}`,
    rows: [
      {
        figure: 'Query API latency',
        subject: `cache hit ${'GET /users/{id}/loans/{loanId}'} ÷ bare two-read floor, ${options.requests} requests × ${samples.length}, one at a time`,
        measured: `${fmt(ratio.median)}× (min ${fmt(ratio.min)}, max ${fmt(ratio.max)}); ${fmt(query.median, 2)} ms vs ${fmt(bare.median, 2)} ms; ${reads}`,
        goal: `≤ ${QUERY_LATENCY_GOAL}×, and no request the floor does not send`,
        floor:
          'bare handler (baseline/query-baseline.ts), same process, same DynamoDB Local: the two GetItems a hit makes (Users row, loan), ' +
          'in parallel, answered as JSON. Why: a hit must know the patron is cached and owns the record, and must read the record; ' +
          'in parallel that costs one read latency',
        original: '',
        verdict,
        values: [ratio.min, ratio.median, ratio.max, query.median, bare.median, requestsPerHit.query.length, requestsPerHit.baseline.length],
      },
      {
        figure: 'Query API latency',
        subject: 'miss-path code (Alma client, rebuild, budget and claim adapters) run by a container at init and on cache hits',
        measured:
          `modules evaluated and functions run at init: ${listed(missPath.atInit)}; during ${options.warmupRequests} hits: ${listed(missPath.duringHits)}; ` +
          `${fmt(missPath.bundleBytes / 1024, 1)} KiB of the ${fmt(missPath.totalBytes / 1024, 1)} KiB index.js come from those sources`,
        goal: 'no Alma-client module evaluated and no miss-path function run before a miss',
        floor:
          'none: a hit reads the cache and answers; the Alma client and the rebuild are for misses only (V8 precise coverage, mapped by the source map)',
        original: '',
        verdict: missVerdict,
        values: [missRan, missPath.atInit.length, missPath.duringHits.length, missPath.bundleBytes, missPath.totalBytes],
      },
    ],
    panels: [
      {
        title: 'Query API cache hit ÷ bare two-read handler (handler time)',
        unit: '× floor',
        bars: [{ label: 'query-api cache hit', spread: ratio, goal: QUERY_LATENCY_GOAL }],
      },
    ],
  };
};

const runWorker = (
  request: QueryLatencyRequest,
  env: Record<string, string>,
): Promise<{ samples: QueryLatencySample[]; requestsPerHit: RequestsPerHit; missPath: MissPathUse }> =>
  new Promise((resolve, reject) => {
    // BENCH_CPU_PROF=<dir>: the worker writes a V8 CPU profile there (node --cpu-prof), to see where a hit's time goes.
    const profile = process.env['BENCH_CPU_PROF'] ? ['--cpu-prof', '--cpu-prof-dir', process.env['BENCH_CPU_PROF']] : [];
    const child = spawn(process.execPath, [...profile, '--import', 'tsx', join(__dirname, 'query-latency-worker.ts')], {
      cwd: WORKSPACE,
      env: { ...env, TSX_TSCONFIG_PATH: join(WORKSPACE, 'tsconfig.base.json'), BENCH_QUERY_LATENCY: JSON.stringify(request) },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    let reply: QueryLatencyReply | undefined;
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.on('message', (message) => {
      reply = message as QueryLatencyReply;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (reply && 'samples' in reply) resolve(reply);
      else reject(new Error(`query latency worker failed (exit ${code}): ${reply && 'error' in reply ? reply.error : ''}\n${stderr}`));
    });
  });

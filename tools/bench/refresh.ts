import { AlmaHttpApi } from '@alma-cache/alma-api';
import { generatePatron, startFakeAlmaServer } from '@alma-cache/alma-api/testing';
import { DEFAULT_EXPIRY_POLICY, RefreshUser, systemClock } from '@alma-cache/cache-domain';
import { type CacheTableNames, DynamoDbCacheStore } from '@alma-cache/aws-adapters';
import { countingDocumentClient } from '@alma-cache/aws-adapters/testing';
import { type BenchRow, type ChartBar, type FigureResult, overallVerdict, verdictOf } from './figure';
import { fmt, spread } from './stats';

/** A patron's size in Alma: loans, requests, fees. */
export interface PatronSize {
  readonly loans: number;
  readonly requests: number;
  readonly fees: number;
}

const PAGE = 100;
// Production's ceiling for update-user (serverless.yml custom.almaCeiling.updateUser).
const ALMA_CEILING = 4;

/** Paged lists: loans and requests in pages of 100 (at least one call each), fees unpaged in one call. */
export const expectedAlmaCalls = (size: PatronSize): number =>
  Math.max(1, Math.ceil(size.loans / PAGE)) + Math.max(1, Math.ceil(size.requests / PAGE)) + 1;

/** The original design: per kind one list call plus one GET per record. */
export const originalAlmaCalls = (size: PatronSize): number => 3 + size.loans + size.requests + size.fees;

const label = (size: PatronSize) => `${size.loans}/${size.requests}/${size.fees}`;

/**
 * The real RefreshUser over DynamoDbCacheStore on DynamoDB Local and AlmaHttpApi against the fake Alma server,
 * for a new patron of each size, `repeats` times (a new patron each time: the first refresh is the costly one).
 * Alma calls are counted at the server; the fake answers at once, so the wall time is this stack's own work
 * (paging, parsing, one conditional write per record), not Alma's latency.
 */
export const measureRefresh = async (tables: Required<CacheTableNames>, sizes: readonly PatronSize[], repeats: number): Promise<FigureResult> => {
  const alma = await startFakeAlmaServer();
  const { client, requests } = countingDocumentClient();
  const api = new AlmaHttpApi({ baseUrl: alma.url, apiKey: async () => alma.apiKey, maxConcurrentRequests: ALMA_CEILING });
  const refresh = new RefreshUser({ store: new DynamoDbCacheStore(client, tables), alma: api, clock: systemClock, expiry: DEFAULT_EXPIRY_POLICY });
  const results = sizes.map((size) => ({ size, calls: [] as number[], ms: [] as number[], dynamo: [] as number[] }));
  try {
    // One untimed refresh warms the HTTP keep-alive pool and the JIT of both ends.
    alma.seedPatron(generatePatron('BENCH-WARMUP', { loans: 10, requests: 2, fees: 1 }));
    await refresh.execute('BENCH-WARMUP');
    for (let repeat = 0; repeat < repeats; repeat += 1) {
      for (const result of results) {
        const patron = `BENCH-R${label(result.size).replace(/\//g, '-')}-${repeat}-${Date.now()}`;
        alma.seedPatron(generatePatron(patron, result.size));
        const callsBefore = alma.calls.length;
        const requestsBefore = requests.length;
        const started = performance.now();
        const outcome = await refresh.execute(patron);
        result.ms.push(performance.now() - started);
        result.calls.push(alma.calls.length - callsBefore);
        result.dynamo.push(requests.length - requestsBefore);
        // A figure for a refresh that did not write the patron would be meaningless.
        if (outcome.result !== 'refreshed' || outcome.counts.loan.written !== result.size.loans) {
          throw new Error(`refresh of ${patron}: ${outcome.result}, ${outcome.counts.loan.written} of ${result.size.loans} loans written`);
        }
      }
    }
  } finally {
    client.destroy();
    await alma.close();
  }

  const rows: BenchRow[] = results.map(({ size, calls, ms, dynamo }) => {
    const callSpread = spread(calls);
    const msSpread = spread(ms);
    const expected = expectedAlmaCalls(size);
    return {
      figure: 'Refresh (RefreshUser → fake Alma)',
      subject: `patron ${label(size)} (loans/requests/fees)`,
      measured:
        `${fmt(callSpread.median)} Alma calls${callSpread.min !== callSpread.max ? ` (${fmt(callSpread.min)}–${fmt(callSpread.max)})` : ''}; ` +
        `${fmt(msSpread.median, 0)} ms (min ${fmt(msSpread.min, 0)}, max ${fmt(msSpread.max, 0)}); ${fmt(spread(dynamo).median)} DynamoDB requests`,
      goal: `${expected} calls (pages of 100, fees unpaged)`,
      floor: `${expected} calls: one per page of 100 per kind (Alma's largest page) plus the patron; no fewer calls can fetch every record`,
      original: `${originalAlmaCalls(size)} calls (1 + N per kind)`,
      verdict: verdictOf(callSpread.max <= expected),
      values: [callSpread.median, msSpread.min, msSpread.median, msSpread.max, spread(dynamo).median],
    };
  });
  const verdict = overallVerdict(rows);
  const bars = (pick: 'calls' | 'ms'): ChartBar[] =>
    results.map((result) => ({
      label: label(result.size),
      spread: spread(result[pick]),
      ...(pick === 'calls' ? { goal: expectedAlmaCalls(result.size), original: originalAlmaCalls(result.size) } : {}),
    }));
  return {
    key: 'refresh',
    summary:
      `[bench] refresh: ${results.map((r) => `${label(r.size)} → ${fmt(spread(r.calls).median)} Alma calls (original ${originalAlmaCalls(r.size)}), ${fmt(spread(r.ms).median, 0)} ms`).join('; ')} ` +
      `(goal: pages of 100, ${repeats} repeats, median wall time) ${verdict}`,
    rows,
    panels: [
      { title: 'Alma calls per refresh (loans/requests/fees)', unit: 'calls', bars: bars('calls') },
      { title: 'Refresh wall time against the fake Alma (no Alma latency)', unit: 'ms', bars: bars('ms') },
    ],
  };
};

/** p50 / p95 / p99 / max of a set of latencies, in ms. */
export interface LatencySummary {
  readonly n: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/**
 * The nearest-rank percentile: the smallest value with at least `p` % of the values at or below it, so a p99 of
 * 100 values is the 99th smallest, and every figure is a latency that was really measured (no interpolation).
 *
 * @example
 * percentile([5, 1, 4, 2, 3], 50); // 3
 * @throws RangeError for no values or `p` outside (0, 100]
 */
export const percentile = (values: readonly number[], p: number): number => {
  if (values.length === 0) throw new RangeError('percentile of no values');
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], not ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1];
};

/**
 * The summary of the latencies; all zeros for none, so a run that measured nothing still prints a table (with n = 0).
 *
 * @example
 * summarize([10, 20, 30]); // { n: 3, p50: 20, p95: 30, p99: 30, max: 30, mean: 20 }
 */
export const summarize = (values: readonly number[]): LatencySummary => {
  if (values.length === 0) return { n: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.ceil((p / 100) * sorted.length) - 1];
  return {
    n: sorted.length,
    p50: at(50),
    p95: at(95),
    p99: at(99),
    max: sorted[sorted.length - 1],
    mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length,
  };
};

/**
 * The busiest sliding second: the most timestamps in any window [t, t + 1000) that starts at one of them, and
 * where it starts. The stage's Alma budget holds in every such window, not per clock second, so it is checked this way.
 *
 * @example
 * peakInSlidingSecond([0, 900, 1100, 1200]); // { count: 3, startsAt: 900 }
 */
export const peakInSlidingSecond = (times: readonly number[]): { count: number; startsAt?: number } => {
  const sorted = [...times].sort((a, b) => a - b);
  let best: { count: number; startsAt?: number } = { count: 0 };
  for (let first = 0, last = 0; last < sorted.length; last += 1) {
    while (sorted[last] - sorted[first] >= 1000) first += 1;
    if (last - first + 1 > best.count) best = { count: last - first + 1, startsAt: sorted[first] };
  }
  return best;
};

/**
 * Counts per clock second from `start` for `seconds` seconds: the timeline's bars. Timestamps outside are left out.
 *
 * @example
 * perSecond([1000, 1500, 2100, 9000], 1000, 3); // [2, 1, 0]
 */
export const perSecond = (times: readonly number[], start: number, seconds: number): number[] => {
  const counts = new Array<number>(Math.max(0, seconds)).fill(0);
  for (const time of times) {
    const index = Math.floor((time - start) / 1000);
    if (index >= 0 && index < counts.length) counts[index] += 1;
  }
  return counts;
};

/**
 * A histogram of latencies on fixed bucket edges (ms): `counts[i]` holds values in [edges[i-1], edges[i]), the
 * first bucket everything below edges[0], the last everything from the final edge up.
 *
 * @example
 * histogram([5, 50, 500, 5000], [10, 100, 1000]); // [1, 1, 1, 1]
 */
export const histogram = (values: readonly number[], edges: readonly number[]): number[] => {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const value of values) {
    const index = edges.findIndex((edge) => value < edge);
    counts[index === -1 ? edges.length : index] += 1;
  }
  return counts;
};

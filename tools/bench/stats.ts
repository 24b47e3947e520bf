/** The spread of one figure over its repeats. */
export interface Spread {
  readonly min: number;
  readonly median: number;
  readonly max: number;
  readonly n: number;
}

/**
 * Min, median and max of the repeats. On this shared machine a single run says little; the spread says how
 * much to trust the median.
 *
 * @example
 * spread([3, 1, 2]); // { min: 1, median: 2, max: 3, n: 3 }
 */
export const spread = (values: readonly number[]): Spread => {
  if (values.length === 0) throw new Error('spread of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { min: sorted[0], median, max: sorted[sorted.length - 1], n: sorted.length };
};

/** A number with at most `digits` decimals and no trailing zeros, for tables. */
export const fmt = (value: number, digits = 2): string => {
  if (!Number.isFinite(value)) return String(value);
  return Number(value.toFixed(digits)).toString();
};

/** `0.47 (min 0.44, median 0.47, max 0.49)` style, median first because it is the headline. */
export const fmtSpread = (s: Spread, digits = 2, unit = ''): string =>
  s.min === s.max ? `${fmt(s.median, digits)}${unit}` : `${fmt(s.median, digits)}${unit} (min ${fmt(s.min, digits)}, max ${fmt(s.max, digits)})`;

/** Runs `task` over `items` with at most `limit` in flight, as Lambda's bounded concurrency would. */
export const forEachBounded = async <T>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<void>): Promise<void> => {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      await task(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
};

import { histogram, peakInSlidingSecond, percentile, perSecond, summarize } from '../../stats';

describe('load maths', () => {
  it('takes nearest-rank percentiles: a value really measured, never an interpolation', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 95)).toBe(95);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    // One slow value in ten: p95 and p99 are that value, p50 is not.
    const tenth = [10, 10, 10, 10, 10, 10, 10, 10, 10, 900];
    expect([percentile(tenth, 50), percentile(tenth, 95), percentile(tenth, 99)]).toEqual([10, 900, 900]);
  });

  it('refuses a percentile of nothing or out of range', () => {
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it('summarizes latencies in any order, and zeros for none', () => {
    expect(summarize([30, 10, 20])).toEqual({ n: 3, p50: 20, p95: 30, p99: 30, max: 30, mean: 20 });
    expect(summarize([])).toEqual({ n: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 });
  });

  it('finds the busiest sliding second across clock seconds, and where it starts', () => {
    expect(peakInSlidingSecond([0, 900, 1100, 1200])).toEqual({ count: 3, startsAt: 900 });
    // Five at the end of one clock second and five at the start of the next: 10 in one sliding second, 5 per clock second.
    const straddling = [950, 960, 970, 980, 990, 1000, 1010, 1020, 1030, 1040];
    expect(peakInSlidingSecond(straddling).count).toBe(10);
    // A window is [t, t + 1000): a call exactly 1000 ms later is the next window's.
    expect(peakInSlidingSecond([0, 1000]).count).toBe(1);
    expect(peakInSlidingSecond([])).toEqual({ count: 0 });
  });

  it('counts per clock second for the timeline, leaving out what falls outside', () => {
    expect(perSecond([1000, 1500, 2100, 999, 9000], 1000, 3)).toEqual([2, 1, 0]);
    expect(perSecond([5], 0, 0)).toEqual([]);
  });

  it('buckets a histogram on its edges, the last bucket open', () => {
    expect(histogram([5, 50, 500, 5000], [10, 100, 1000])).toEqual([1, 1, 1, 1]);
    expect(histogram([10, 99, 100], [10, 100])).toEqual([0, 2, 1]);
  });
});

import type { Spread } from './stats';

/** PASS/FAIL against the goal; `info` for rows that have no goal (unknown patron, refresh wall time). */
export type Verdict = 'PASS' | 'FAIL' | 'info';

/** One row of the bench table. `values` are the raw numbers behind it, so the smoke test can check they are finite. */
export interface BenchRow {
  readonly figure: string;
  readonly subject: string;
  readonly measured: string;
  readonly goal: string;
  /** What the figure is compared with and why nothing correct could do better: the design's own floor. */
  readonly floor: string;
  readonly original: string;
  readonly verdict: Verdict;
  readonly values: readonly number[];
}

/** One bar of the chart: a range (min–max) with its median, and the goal and original design when they apply. */
export interface ChartBar {
  readonly label: string;
  readonly spread: Spread;
  readonly goal?: number;
  readonly original?: number;
}

/** One panel of the chart, on its own scale. `higherIsBetter` only decides the wording of the goal marker. */
export interface ChartPanel {
  readonly title: string;
  readonly unit: string;
  readonly bars: readonly ChartBar[];
  readonly higherIsBetter?: boolean;
}

/** What one figure module hands to the report: its one-line summary, its table rows, its chart panels. */
export interface FigureResult {
  readonly key: 'event-cost' | 'throughput' | 'cold-start' | 'bundle-size' | 'query-latency' | 'tracing' | 'init-cost' | 'refresh';
  readonly summary: string;
  readonly rows: readonly BenchRow[];
  readonly panels: readonly ChartPanel[];
}

/** PASS when every goal-bearing row passed. */
export const verdictOf = (passed: boolean): Verdict => (passed ? 'PASS' : 'FAIL');

/** The verdict of a figure from its rows: FAIL if any row failed, PASS if any passed, else info. */
export const overallVerdict = (rows: readonly BenchRow[]): Verdict =>
  rows.some((row) => row.verdict === 'FAIL') ? 'FAIL' : rows.some((row) => row.verdict === 'PASS') ? 'PASS' : 'info';

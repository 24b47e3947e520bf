import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderChart } from './chart';
import type { FigureResult } from './figure';

/** Where and how the run happened, printed above the table: every figure is only as good as this context. */
export interface RunContext {
  readonly mode: 'quick' | 'full';
  readonly startedAt: string;
  readonly seconds: number;
  readonly machine: string;
  readonly loadBefore: readonly number[];
  readonly loadAfter: readonly number[];
  readonly node: string;
  readonly emulator: string;
  readonly settings: string;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The bench table: one row per measured subject, its goal, its floor and the original design beside it. */
export const renderTable = (figures: readonly FigureResult[]): string => {
  const lines = [
    '| figure | subject | measured: median (min, max) | goal | floor: what it is compared with, and why that is the floor | original design | verdict |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const row of figures.flatMap((figure) => figure.rows)) {
    lines.push(`| ${[row.figure, row.subject, row.measured, row.goal, row.floor, row.original || '—', row.verdict].map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
};

const renderMarkdown = (figures: readonly FigureResult[], context: RunContext): string =>
  [
    `# Alma cache stack: benchmarks (${context.mode} run)`,
    '',
    `Run ${context.startedAt}, ${context.seconds.toFixed(0)} s; ${context.machine}; load average ${context.loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ` +
      `${context.loadAfter.map((l) => l.toFixed(2)).join(' ')} after; Node ${context.node}; ${context.emulator}.`,
    `Settings: ${context.settings}.`,
    '',
    'Every time figure is a ratio of two things measured in the same run on the same shared machine (other work',
    'included), so read the medians and the min–max spread, not single values. Counts (requests, capacity units,',
    'Alma calls, bytes) do not depend on the machine.',
    '',
    '```',
    ...figures.map((figure) => figure.summary),
    '```',
    '',
    renderTable(figures),
    '',
    '![bench chart](bench.svg)',
    '',
    '## How each figure is measured',
    '',
    '- **DynamoDB cost per event**: the four use cases over the real `DynamoDbCacheStore` and document client on',
    '  DynamoDB Local; SDK middleware counts requests and asks for `ReturnConsumedCapacity` (DynamoDB Local reports',
    "  it). The eight sample webhooks in Alma's order, for a cached patron; then for unknown patrons (information:",
    '  the extra request is the refresh claim, the refresh message goes to an in-memory queue).',
    '- **Handler throughput**: the built `dist/apps/sns-lambdas` bundles, loaded as Lambda loads `index.js`, in a',
    '  child process whose stdout (the Powertools log) goes to /dev/null; events for cached patrons at a fixed number',
    '  in flight; in the same process, slice by slice in alternating order, the bare floor (`baseline/sns-baseline.ts`,',
    '  one copy per function as the four functions are four bundles) issuing the same two conditional writes for the',
    '  same kind of batches at the same concurrency. The ratio per repeat is the figure.',
    '- **Cold start**: a fresh `node` per start (`NODE_OPTIONS=--enable-source-maps`, as deployed) requires the',
    '  bundle; the time of the `require` (module evaluation plus the composition root) is divided by that of a',
    '  bare handler bundled the same way that builds the same SDK clients, started right beside it (pairs alternate',
    '  their order); min/median/max of the paired ratios, and the ratio of the two fastest starts (least disturbed).',
    "- **Bundle size**: `index.js` and the deployed zip against the baseline bundle's (KiB = 1024 bytes); the zip",
    '  without `powertools-tracer.js` and its map, which only a traced stage loads (counted under tracing cost).',
    '- **Query API latency**: the built `query-api` bundle and a bare GetItem handler, warm in one child process on',
    '  the same DynamoDB Local, one request at a time in alternating slices; a cache hit for a cached patron (checked:',
    '  200, `x-cache: hit`); per repeat the ratio of the median handler times.',
    '- **Tracing cost**: one function per app started with `POWERTOOLS_TRACE_ENABLED=true` and `false` in pairs',
    "  (alternating order, a Lambda-like environment on both sides); the tracer file's size in index.js terms and zipped.",
    '- **Refresh**: the real `RefreshUser` with `AlmaHttpApi` (4 in flight) against the fake Alma server and',
    '  DynamoDB Local, a new patron per repeat; calls counted at the server; the fake answers with no delay.',
    '',
  ].join('\n');

/** Writes bench.md, bench.svg and bench.json (every row's raw numbers, for the smoke test) into `dir`. */
export const writeReport = async (dir: string, figures: readonly FigureResult[], context: RunContext): Promise<void> => {
  await mkdir(dir, { recursive: true });
  const subtitle = `Alma cache stack benchmarks, ${context.mode} run ${context.startedAt} (${context.machine})`;
  await writeFile(join(dir, 'bench.md'), renderMarkdown(figures, context));
  await writeFile(
    join(dir, 'bench.svg'),
    renderChart(
      figures.flatMap((figure) => figure.panels),
      subtitle,
    ),
  );
  await writeFile(join(dir, 'bench.json'), `${JSON.stringify({ context, figures }, null, 2)}\n`);
};

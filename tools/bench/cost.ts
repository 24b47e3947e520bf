// `npm run cost [-- --bench FILE] [--patrons N] [--write]`: what a semester-start month costs a university, from the
// bench's measured per-event figures (tools/bench/reports/latest/bench.json) and the stated workload; `--write`
// regenerates tools/bench/COST.md, the page the README links.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Deployment, LIST_PRICES, MB_PER_VCPU, type MeasuredUnitCosts, semesterStartCost, type Workload } from './cost-model';

const ROOT = join(__dirname, '..', '..');
const DEFAULT_BENCH = join(ROOT, 'tools', 'bench', 'reports', 'latest', 'bench.json');
const PAGE = join(ROOT, 'tools', 'bench', 'COST.md');

/** The workload of a 40,000-patron university, each number with the reason the page prints beside it. */
const workloadFor = (activePatrons: number): { workload: Workload; why: Record<keyof Workload, string> } => ({
  workload: {
    activePatrons,
    newPatrons: Math.round(activePatrons * 0.2),
    loansPerPatronYear: 10,
    eventsPerLoan: 3.7,
    requestsPerPatronYear: 2.5,
    eventsPerRequest: 2.8,
    peakMonthShare: 0.15,
    peakDayShare: 0.08,
    peakHourShare: 0.15,
    bulkJobEventsPerSecond: 100,
    bulkJobEvents: 60_000,
    queriesPerPatronMonth: 8,
    queryMissShare: 0.02,
  },
  why: {
    activePatrons: 'the issue: a university of 40,000 active patrons',
    newPatrons: 'a first-year intake of about a fifth of the patrons, none of them cached before their first loan',
    loansPerPatronYear: 'initial circulation of a research library, students and staff together (5–15 is the usual range)',
    eventsPerLoan: 'LOAN_CREATED 1 + LOAN_RENEWED 1.5 (auto-renewal) + LOAN_DUE_DATE 0.2 + LOAN_RETURNED 1',
    requestsPerPatronYear: 'holds and pick-up requests, about a quarter of the loans',
    eventsPerRequest: 'REQUEST_CREATED 1 + REQUEST_PLACED_ON_SHELF 0.8 + REQUEST_CLOSED or _CANCELED 1',
    peakMonthShare: "two semester starts hold about 30 % of a year's circulation, half of it in each start month",
    peakDayShare: 'the first Monday of term: about twice an average day of the month',
    peakHourShare: 'desks open 12 hours; the busiest hour about twice an average one',
    bulkJobEventsPerSecond:
      'an Alma job (bulk due-date change, overnight auto-renewal) sends one webhook per loan as fast as Alma goes; `npm run load` uses the same rate',
    bulkJobEvents: 'that job over every open loan at term start: about 1.5 open loans per patron',
    queriesPerPatronMonth: 'the library app and discovery\'s "my account", about twice a week per active patron',
    queryMissShare: 'a reader asking for a patron the webhooks and the backfill have not brought in yet',
  },
});

/** What the stacks deploy (serverless.yml, tools/serverless/shared-resources.js) and what they run all the time. */
const DEPLOYMENT: { deployment: Deployment; why: Record<keyof Deployment, string> } = {
  deployment: {
    memoryMb: 256,
    batchSize: 10,
    maximumConcurrencyPerFunction: 5,
    cacheUpdateFunctions: 4,
    polledQueues: 8,
    emptyReceivesPerQueueMinute: 15,
    alarms: 55,
    metricSeries: 150,
    logBytesPerEvent: 1200,
    logBytesPerQuery: 700,
    storedBytesPerPatron: 6000,
    receiverMsPerWebhook: 25,
    rebuildSeconds: 1.5,
    auditAlmaCallsPerDay: 4320,
    almaCallsPerSecond: 10,
    refreshShare: 0.3,
  },
  why: {
    memoryMb: 'every function (tools/serverless/shared-resources.js), arm64',
    batchSize: "the cache-update queues' trigger (apps/sns-lambdas/serverless.yml, itemEvents)",
    maximumConcurrencyPerFunction: "the same trigger's maximumConcurrency: a flood waits in the queue",
    cacheUpdateFunctions: 'loan-updated, loan-returned, request-updated, request-closed',
    polledQueues: 'four cache-update queues and the Users, Loans, Requests and Fees queues',
    emptyReceivesPerQueueMinute: 'Lambda long-polls an idle queue with several 20 s receives at once (assumed 5 pollers × 3 a minute)',
    alarms:
      'AWS::CloudWatch::Alarm resources in the six packaged prod templates (`node tools/scripts/package-templates.mjs package --out DIR --stage prod`), 2026-12-06',
    metricSeries:
      'the Metrics table of the README: names × dimension values seen in a busy month (Events by eventType × outcome, Requests by route × outcome, drift by kind × field …)',
    logBytesPerEvent: "the receiver's and the function's log lines and EMF documents for one webhook",
    logBytesPerQuery: 'the audit line and EMF document of one query',
    storedBytesPerPatron: 'a Users row and about ten loan, request and fee rows of a few hundred bytes, with tombstones until their TTL',
    receiverMsPerWebhook: 'signature check and one SNS publish (assumed; the load run measures it end to end)',
    rebuildSeconds: 'a rebuild waits on three Alma calls of about 0.5 s each',
    auditAlmaCallsPerDay: 'the drift audit at its defaults: 60 patrons an hour × 3 calls (README, Drift audit)',
    almaCallsPerSecond: "ALMA_CALLS_PER_SECOND, the stage's budget: 10 of Alma's 25 calls/s per institution",
    refreshShare: 'the refresh share of that budget (3 of 10 calls/s); the query misses keep the rest',
  },
};

interface BenchRow {
  readonly subject: string;
  readonly values?: readonly number[];
}
interface BenchFigure {
  readonly key: string;
  readonly rows: readonly BenchRow[];
}

/** The measured figures the model needs, each from a named row of bench.json; a missing one is an error naming it. */
export const measuredFromBench = (bench: {
  figures: readonly BenchFigure[];
  context?: { startedAt?: string };
}): { measured: MeasuredUnitCosts; source: Record<string, string> } => {
  const row = (key: string, subject: RegExp, index: number): number => {
    const found = bench.figures.find((figure) => figure.key === key)?.rows.find((candidate) => subject.test(candidate.subject));
    const value = found?.values?.[index];
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new Error(`bench.json has no figure "${key}" row matching ${subject} with a value #${index}: run npm run bench first`);
    return value;
  };
  const maxOf = (key: string, subject: RegExp, index: number): number => {
    const rows = bench.figures.find((figure) => figure.key === key)?.rows.filter((candidate) => subject.test(candidate.subject)) ?? [];
    const values = rows.map((candidate) => candidate.values?.[index]).filter((value): value is number => typeof value === 'number');
    if (values.length === 0) throw new Error(`bench.json has no figure "${key}" rows matching ${subject}: run npm run bench first`);
    return Math.max(...values);
  };
  return {
    measured: {
      cachedEventWrites: maxOf('event-cost', /←/, 0),
      cachedEventWriteUnits: maxOf('event-cost', /←/, 1),
      unknownEventWriteUnits: maxOf('event-cost', /event types/, 1),
      refreshAlmaCalls: row('refresh', /5\/1\/0/, 0),
      refreshWriteUnits: row('refresh', /5\/1\/0/, 4),
      queryHitReadUnits: 1, // two eventually consistent reads of rows under 4 KB: 0.5 RRU each
      cpuMsPerEventOneCore: cpuMsPerEvent(bench.figures),
      queryHitMsOneCore: queryHitMs(bench.figures),
      sequentialRoundTrips: 2,
      roundTripMs: 8,
    },
    source: {
      'DynamoDB per event': 'bench "DynamoDB cost per event" (max over the eight events; unknown patron: claim included)',
      'refresh of a patron': 'bench "Refresh", patron 5/1/0: Alma calls, and DynamoDB requests counted as write units (an upper bound)',
      'CPU per event': 'bench "Handler throughput": the cache-update bundle\'s Node CPU per event on one core of this machine',
      'query hit': 'bench "Query API latency": median handler time of a hit on one core; reads: two eventually consistent GetItems under 4 KB',
      'round trips': 'two conditional writes in sequence per event, ~8 ms each inside a region (assumed)',
    },
  };
};

// The throughput row states Node CPU per event against its floor ("Node CPU 1.9 vs 1.6 ms/event"); a report from
// before the floors had "CPU 1.9 ms/event". Either gives the first figure: the design's own.
const cpuMsPerEvent = (figures: readonly BenchFigure[]): number => {
  const rows = figures.find((figure) => figure.key === 'throughput')?.rows ?? [];
  for (const candidate of rows) {
    const text = JSON.stringify(candidate);
    const match = text.match(/CPU (\d+(?:\.\d+)?)(?: vs \d+(?:\.\d+)?)? ms\/event/);
    if (match) return Number(match[1]);
  }
  throw new Error('bench.json has no "Handler throughput" row with "CPU <n> [vs <n>] ms/event": run npm run bench first');
};
const queryHitMs = (figures: readonly BenchFigure[]): number => {
  const rows = figures.find((figure) => figure.key === 'query-latency')?.rows ?? [];
  for (const candidate of rows) {
    const match = JSON.stringify(candidate).match(/(\d+(?:\.\d+)?) ms vs/);
    if (match) return Number(match[1]);
  }
  throw new Error('bench.json has no "Query API latency" row with "<n> ms vs …": run npm run bench first');
};

const usd = (n: number) => (n < 0.01 ? '< $0.01' : `$${n.toFixed(2)}`);
const fmt = (n: number, digits = 1) => n.toLocaleString('en', { maximumFractionDigits: digits });

/** The page, as markdown. */
export const costPage = (
  activePatrons: number,
  bench: { figures: readonly BenchFigure[]; context?: { startedAt?: string } },
  benchFile: string,
): string => {
  const { workload, why } = workloadFor(activePatrons);
  const { measured, source } = measuredFromBench(bench);
  const { deployment, why: deployWhy } = DEPLOYMENT;
  const r = semesterStartCost(workload, measured, deployment, LIST_PRICES);
  const dailyLimit = 1_000_000;
  const lines = [
    `# What the stack costs a university (${fmt(activePatrons, 0)} active patrons, semester start)`,
    '',
    `Generated by \`npm run cost -- --write\` (\`tools/bench/cost.ts\`, arithmetic in \`tools/bench/cost-model.ts\`, checked by`,
    `\`tools/bench/tests/unit/cost-model.spec.ts\`) from the bench run of ${bench.context?.startedAt ?? 'unknown date'} (\`${benchFile}\`).`,
    `Prices: AWS list prices, ${LIST_PRICES.region}, on-demand, before the free tier (each price page is named in`,
    '`cost-model.ts`); EU regions list DynamoDB, CloudWatch and API Gateway about 10–13 % higher.',
    '',
    '## At the peak',
    '',
    '| figure | value | how |',
    '|---|---|---|',
    `| webhooks in the semester-start month | ${fmt(r.peakMonthEvents, 0)} | the workload below, plus one bulk job of ${fmt(workload.bulkJobEvents, 0)} |`,
    `| peak webhooks/s, desk traffic | ${fmt(r.deskPeakEventsPerSecond, 2)} | busiest hour of the busiest day |`,
    `| peak webhooks/s, an Alma bulk job | ${fmt(r.bulkPeakEventsPerSecond, 0)} | the real peak: jobs, not desks |`,
    `| Lambda time per batch of ${deployment.batchSize} (estimate) | ${fmt(r.lambdaMsPerBatch, 0)} ms | ${measured.cpuMsPerEventOneCore} ms CPU/event on one core × ${deployment.batchSize} × ${fmt(MB_PER_VCPU / deployment.memoryMb, 1)} (256 MB is ${fmt(deployment.memoryMb / MB_PER_VCPU, 2)} vCPU) + ${measured.sequentialRoundTrips} round trips |`,
    `| Lambda concurrency during the bulk job | ${fmt(r.peakConcurrency, 1)} | webhooks/s ÷ batch × time per batch; the cap is ${deployment.cacheUpdateFunctions} × ${deployment.maximumConcurrencyPerFunction} |`,
    `| cache-update capacity at that cap | ${fmt(r.maxEventsPerSecond, 0)} webhooks/s | ${deployment.cacheUpdateFunctions} functions × ${deployment.maximumConcurrencyPerFunction} × ${deployment.batchSize} ÷ time per batch (if one event type dominates, a quarter of it) |`,
    `| DynamoDB write units/s during the bulk job | ${fmt(r.peakWriteUnitsPerSecond, 0)} | ${measured.cachedEventWriteUnits} WCU per webhook (measured); on-demand serves 4,000/s on a new table |`,
    `| DynamoDB read units/s, busiest hour | ${fmt(r.peakReadUnitsPerSecond, 2)} | ${measured.queryHitReadUnits} RRU per hit |`,
    `| Alma calls on the busiest day | ${fmt(r.almaCallsPeakDay, 0)} | new patrons' rebuilds + misses + the drift audit; ${fmt((r.almaCallsPeakDay / dailyLimit) * 100, 1)} % of a 1,000,000-a-day limit |`,
    `| time to rebuild the ${fmt(workload.newPatrons, 0)} new patrons | ${fmt(r.newPatronRefreshHours, 1)} h | ${measured.refreshAlmaCalls} Alma calls each at the refresh share, ${fmt(deployment.almaCallsPerSecond * deployment.refreshShare, 1)} calls/s |`,
    '',
    "## The month's bill",
    '',
    '| item | quantity | USD |',
    '|---|---|---|',
    ...r.monthly.map((line) => `| ${line.item} | ${line.quantity} | ${usd(line.usd)} |`),
    `| **total** | | **${usd(r.monthlyTotalUsd)}** |`,
    '',
    'A quiet month costs nearly the same: the fixed lines (custom metrics, alarms, idle queue polls) are most of it.',
    '',
    '## Where it would hit a limit first, and what to change then',
    '',
    `1. **Alma's per-second budget, for new patrons.** Each unknown patron costs ${measured.refreshAlmaCalls} Alma calls from the refresh`,
    `   share (${fmt(deployment.almaCallsPerSecond * deployment.refreshShare, 1)} calls/s): ${fmt(workload.newPatrons, 0)} new patrons take ${fmt(r.newPatronRefreshHours, 1)} h, and a new student's`,
    '   first day is when they borrow. Their events are written as they come; only the rest of their record waits. Change:',
    '   backfill the intake before term (`npm run backfill -- --file new-patrons.txt`), or raise `ALMA_CALLS_PER_SECOND`',
    "   for the week if the institution's other Alma clients leave room under the 25 calls/s.",
    `2. **Cache-update concurrency** (${deployment.maximumConcurrencyPerFunction} per function) bounds a bulk job of one event type to about`,
    `   ${fmt(r.maxEventsPerSecond / deployment.cacheUpdateFunctions, 0)} webhooks/s; beyond that the queue absorbs it (minutes of age, no loss). Change: raise`,
    "   `maximumConcurrency` of that function (DynamoDB on-demand and the account's Lambda concurrency have room).",
    '3. **The bill** is dominated by CloudWatch custom metrics, not by the events. Change: fewer dimension combinations',
    '   (e.g. `Events` by `outcome` only) if the bill matters more than the breakdown.',
    '',
    '## Workload (assumptions)',
    '',
    '| input | value | why |',
    '|---|---|---|',
    ...(Object.keys(workload) as (keyof Workload)[]).map((key) => `| ${key} | ${fmt(workload[key], 3)} | ${why[key]} |`),
    '',
    '## Measured per-event figures',
    '',
    '| input | value | source |',
    '|---|---|---|',
    `| DynamoDB requests per webhook, cached patron | ${measured.cachedEventWrites} | ${source['DynamoDB per event']} |`,
    `| DynamoDB write units per webhook, cached / unknown patron | ${measured.cachedEventWriteUnits} / ${measured.unknownEventWriteUnits} | the same |`,
    `| Alma calls and write units per rebuilt patron | ${measured.refreshAlmaCalls} / ${measured.refreshWriteUnits} | ${source['refresh of a patron']} |`,
    `| CPU per webhook, one core | ${measured.cpuMsPerEventOneCore} ms | ${source['CPU per event']} |`,
    `| query hit, one core | ${fmt(measured.queryHitMsOneCore, 2)} ms, ${measured.queryHitReadUnits} RRU | ${source['query hit']} |`,
    `| round trips per webhook | ${measured.sequentialRoundTrips} × ${measured.roundTripMs} ms | ${source['round trips']} |`,
    '',
    '## Deployment (from the templates)',
    '',
    '| input | value | why |',
    '|---|---|---|',
    ...(Object.keys(deployment) as (keyof Deployment)[]).map((key) => `| ${key} | ${fmt(deployment[key], 3)} | ${deployWhy[key]} |`),
    '',
    'What this page cannot say: Lambda time is estimated from CPU measured on this x86 machine, scaled to 256 MB of',
    'an arm64 core, not measured in Lambda; the metric count is an estimate. Each is a row above to change.',
    '',
  ];
  return lines.join('\n');
};

if (require.main === module) {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      bench: { type: 'string', default: DEFAULT_BENCH },
      patrons: { type: 'string', default: '40000' },
      write: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const patrons = Number(values.patrons);
  if (!Number.isInteger(patrons) || patrons < 100 || patrons > 2_000_000) {
    process.stderr.write(`--patrons takes a whole number from 100 to 2000000, got "${values.patrons}"\n`);
    process.exit(1);
  }
  const page = costPage(patrons, JSON.parse(readFileSync(values.bench, 'utf8')), values.bench.replace(ROOT + '/', ''));
  if (values.write) {
    writeFileSync(PAGE, page);
    process.stderr.write(`[cost] wrote ${PAGE.replace(ROOT + '/', '')}\n`);
  } else process.stdout.write(page);
}

import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderLoadChart } from './chart';
import type { EmulatorFloor } from './profile';
import { RESEND_ATTEMPTS, type RateResult } from './run-rate';

/** The issue's goal: p99 from the receiver's 200 to the cache. */
export const GOAL_P99_MS = 2000;

/** What the whole invocation found, as load.json holds it (the latencies themselves only in the chart). */
export interface LoadReport {
  readonly command: string;
  readonly startedAt: string;
  readonly machine: string;
  readonly results: readonly RateResult[];
  /** Per rate: CPU seconds of this process (every function runs in it) against the wall time, and the machine's busy share. */
  readonly cpu: readonly {
    rate: number;
    nodeCpuSeconds: number;
    wallSeconds: number;
    machineBusyShare: number;
    cores: number;
    loadAverage: number;
  }[];
  /** moto's SNS publish capacity, measured before the rates (profile.ts measureEmulatorFloor). */
  readonly emulatorFloor?: EmulatorFloor;
  /** Top self-time frames of a CPU profile of the send phase, when LOAD_CPU_PROF was set. */
  readonly profile?: readonly string[];
}

const ms = (value: number) => `${Math.round(value)}`;

/**
 * The table the CLI prints and load.md starts with: one row per rate.
 *
 * @example
 * latencyTable(report.results).join('\n');
 */
export const latencyTable = (results: readonly RateResult[]): string[] => [
  '| rate (webhooks/s) | sent/s achieved | measured | to cache p50 ms | p95 ms | p99 ms | max ms | p99 ≤ 2 s | to change published p50 ms | p99 ms | lost | wrong | parked | patrons queued for refresh / unknown (webhook + read only) / queued twice | Alma peak / budget (per sliding s) | drain s |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...results.map((result) =>
    [
      result.rate,
      result.sent.perSecondAchieved.toFixed(1),
      result.latency.n,
      ms(result.latency.p50),
      ms(result.latency.p95),
      ms(result.latency.p99),
      ms(result.latency.max),
      result.latency.n > 0 && result.latency.p99 <= GOAL_P99_MS ? 'met' : 'missed',
      ms(result.notification.p50),
      ms(result.notification.p99),
      result.check.lost,
      result.check.wrong,
      result.parked.reduce((sum, queue) => sum + queue.count, 0),
      `${result.refresh.patronsRefreshed} / ${result.refresh.unknownWithWebhook} + ${result.refresh.unknownOnlyRead} / ${result.refresh.patronsRefreshedTwice}`,
      `${result.alma.peakPerSlidingSecond} / ${result.alma.budget}`,
      `${result.drain.seconds.toFixed(0)}${result.drain.complete ? '' : ' (timed out)'}`,
    ]
      .join(' | ')
      .replace(/^/, '| ')
      .concat(' |'),
  ),
];

/** Whether a rate passed every check the issue sets (latency aside: that is the goal, reported beside it as met or missed). */
export const rateProblems = (result: RateResult): string[] => [
  ...(result.check.lost > 0 ? [`${result.check.lost} lost`] : []),
  ...(result.check.wrong > 0 ? [`${result.check.wrong} wrong`] : []),
  ...result.parked.filter((queue) => queue.count > 0).map((queue) => `${queue.count} parked on ${queue.queue}`),
  ...(result.refresh.patronsRefreshedTwice > 0 ? [`${result.refresh.patronsRefreshedTwice} patrons queued for a refresh twice`] : []),
  ...(result.refresh.refreshedNotUnknown > 0 ? [`${result.refresh.refreshedNotUnknown} cached patrons queued for a refresh`] : []),
  ...(result.alma.peakPerSlidingSecond > result.alma.budget
    ? [`Alma peak ${result.alma.peakPerSlidingSecond}/s over the budget ${result.alma.budget}/s`]
    : []),
  ...(result.sent.neverAnswered > 0 ? [`${result.sent.neverAnswered} events never answered 200 after ${RESEND_ATTEMPTS} deliveries`] : []),
  ...(result.notWritten > 0 ? [`${result.notWritten} events answered 200 but never written by a cache-update function`] : []),
  ...(result.drain.complete ? [] : ['the drain timed out']),
];

const markdown = (report: LoadReport): string => {
  const lines = [
    '# Load: a semester-start burst on the local stack',
    '',
    `Command: \`${report.command}\`; started ${report.startedAt}; machine: ${report.machine}.`,
    '',
    "Latency to cache: from the receiver's 200 for a webhook to the moment the cache-update function that took its",
    'message off the queue returned without failing it (its two conditional writes done, so a read sees them), for',
    'every distinct event answered 200 (the goal: p99 ≤ 2 s). Latency to notification: from the 200 to the change',
    'notification published (the publish-changes invocation handed its Loans/Requests stream record returned, so SNS',
    "holds it), for every event whose notification the load's own subscriber received; duplicates and events superseded",
    'by a newer one of the same record change nothing and are checked by the model instead. How long that subscriber',
    'took to read it off its queue is reported per rate too: on moto it measures the reader (10 messages per receive, each',
    'taking seconds once moto is busy) more than the stack.',
    '',
    ...latencyTable(report.results),
    '',
  ];
  for (const result of report.results) {
    lines.push(
      `## ${result.rate} webhooks/s for ${result.durationSeconds} s`,
      '',
      `- patrons ${result.patrons}, unknown to the cache ${result.unknownPatrons} (sent a webhook: ${result.refresh.unknownWithWebhook})`,
      `- events ${result.sent.events}, deliveries ${result.sent.deliveries} (duplicates ${result.sent.duplicates}, late ${result.sent.late}), ` +
        `${result.sent.perSecondAchieved.toFixed(1)}/s achieved; seconds held back by the in-flight cap: ${result.sent.behindSeconds}`,
      `- mix sent: ${Object.entries(result.sent.byType)
        .sort((a, b) => b[1] - a[1])
        .map(([type, count]) => `${type} ${count}`)
        .join(', ')}`,
      `- receiver answers other than 200: ${JSON.stringify(result.sent.notOk)} (each sent again 1, 5, 15, 30 and 60 s after the failure before, as Alma resends, up to ${RESEND_ATTEMPTS} deliveries: ${result.sent.resends} resends; never answered 200: ${result.sent.neverAnswered})`,
      `- to cache (ms): n ${result.latency.n}, p50 ${ms(result.latency.p50)}, p95 ${ms(result.latency.p95)}, p99 ${ms(result.latency.p99)}, ` +
        `max ${ms(result.latency.max)}, mean ${ms(result.latency.mean)}; answered 200 but never written ${result.notWritten}`,
      `- to the load's subscriber (ms): n ${result.subscriber.n}, p50 ${ms(result.subscriber.p50)}, p99 ${ms(result.subscriber.p99)}`,
      `- to notification published (ms): n ${result.notification.n}, p50 ${ms(result.notification.p50)}, p95 ${ms(result.notification.p95)}, p99 ${ms(result.notification.p99)}, ` +
        `max ${ms(result.notification.max)}, mean ${ms(result.notification.mean)}; superseded by a newer event (no change expected) ${result.superseded}; ` +
        `already written by a refresh (no change of its own) ${result.refreshedFirst}; ` +
        `change not seen ${result.unmatched}`,
      `- where the time to the cache went (p50 / p95 / p99 ms, n ${result.cacheStages.inQueue.n}): 200 → taken off the queue by a poller ` +
        `${ms(result.cacheStages.inQueue.p50)} / ${ms(result.cacheStages.inQueue.p95)} / ${ms(result.cacheStages.inQueue.p99)}; ` +
        `taken off → written (the function's invocation, its whole batch) ${ms(result.cacheStages.inFunction.p50)} / ${ms(result.cacheStages.inFunction.p95)} / ${ms(result.cacheStages.inFunction.p99)}; ` +
        `of which batches of cached patrons only (two DynamoDB writes per event, no Users-queue send) n ${result.cacheStages.inFunctionCachedOnly.n}: ` +
        `${ms(result.cacheStages.inFunctionCachedOnly.p50)} / ${ms(result.cacheStages.inFunctionCachedOnly.p95)} / ${ms(result.cacheStages.inFunctionCachedOnly.p99)}`,
      `- where a notified event's time went (p50 / p99 ms, n ${result.stages.toCache.n}): 200 → written ${ms(result.stages.toCache.p50)} / ${ms(result.stages.toCache.p99)}; ` +
        `written → its stream record handed to publish-changes ${ms(result.stages.writeToStreamInvoke.p50)} / ${ms(result.stages.writeToStreamInvoke.p99)}; ` +
        `that invocation (its batch's publishes) ${ms(result.stages.publishInvocation.p50)} / ${ms(result.stages.publishInvocation.p99)}; ` +
        `invocation end → the subscriber's queue ${ms(result.stages.invocationToSubscriber.p50)} / ${ms(result.stages.invocationToSubscriber.p99)}`,
      `- readers: ${result.reads.n} reads, ${JSON.stringify(result.reads.byStatus)}; p50 ${ms(result.reads.latency.p50)} ms, ` +
        `p99 ${ms(result.reads.latency.p99)} ms`,
      `- model: ${result.check.patronsChecked} patrons and ${result.check.recordsChecked} records checked; lost ${result.check.lost}, wrong ${result.check.wrong}` +
        (result.check.examples.length > 0 ? `; first: ${result.check.examples.join(' | ')}` : ''),
      `- parked: ${result.parked.map((queue) => `${queue.queue} ${queue.count}${queue.samples.length > 0 ? ` (${queue.samples.join('; ')})` : ''}`).join(', ')}`,
      `- refresh: ${result.refresh.usersQueueMessages} Users-queue messages finished (${result.refresh.redeliveries} of them a redelivery of a message already finished) ` +
        `for ${result.refresh.patronsRefreshed} patrons, ${result.refresh.patronsRefreshedTwice} of them queued twice, ${result.refresh.refreshedNotUnknown} of them cached before the burst; ` +
        `unknown patrons sent a webhook ${result.refresh.unknownWithWebhook}, only read ${result.refresh.unknownOnlyRead}; ` +
        `${result.refresh.claims} refresh claims; at most ${result.refresh.maxRebuildsOfOnePatron} rebuild(s) of one patron seen at Alma`,
      `- Alma: ${result.alma.calls} calls, peak ${result.alma.peakPerSlidingSecond} in a sliding second, budget ${result.alma.budget}/s`,
      `- drain: ${result.drain.seconds.toFixed(1)} s${result.drain.complete ? '' : ' (timed out)'}`,
      `- checks: ${rateProblems(result).length === 0 ? 'all pass' : rateProblems(result).join('; ')}`,
      '',
    );
  }
  lines.push(
    '## Where the CPU went',
    '',
    ...report.cpu.map(
      (entry) =>
        `- ${entry.rate}/s: this process (receiver, query API, every function, fake Alma, the load) ${entry.nodeCpuSeconds.toFixed(1)} CPU s over ` +
        `${entry.wallSeconds.toFixed(1)} s wall (${((entry.nodeCpuSeconds / entry.wallSeconds) * 100).toFixed(0)} % of one core); whole machine busy ` +
        `${(entry.machineBusyShare * 100).toFixed(0)} % of ${entry.cores} cores (the rest: the emulators, DynamoDB Local and moto, and anything else running); ` +
        `load average ${entry.loadAverage.toFixed(1)} at the end`,
    ),
    '',
  );
  if (report.emulatorFloor) {
    const rates = report.emulatorFloor.rounds.map((round) => round.perSecond).sort((a, b) => a - b);
    const medians = report.emulatorFloor.rounds.map((round) => round.medianMs).sort((a, b) => a - b);
    lines.push(
      "## The emulator's floor",
      '',
      `Before the rates, on the same moto: ${rates.map((rate) => rate.toFixed(0)).join(' / ')} SNS publishes per second ` +
        `(min / median / max of ${rates.length} rounds of 200, ${report.emulatorFloor.concurrency} at a time, through a topic delivering raw ` +
        `to a queue, as the receiver publishes); median call ${medians.map((value) => value.toFixed(0)).join(' / ')} ms. Each webhook costs ` +
        'moto one such publish (the receiver) and each change one more (publish-changes), besides the queue receives and deletes, ' +
        'so the local stack carries fewer webhooks per second than this figure whatever the functions do.',
      '',
    );
  }
  if (report.profile) lines.push('## CPU profile of the send phase (top self time)', '', ...report.profile.map((line) => `- ${line}`), '');
  lines.push('![latency and timeline](load.svg)', '');
  return lines.join('\n');
};

/**
 * Writes load.md, load.json and load.svg into `dir`, and the same files into `latest` when given (replacing it).
 *
 * @example
 * writeLoadReport(report, 'tools/bench/reports/load-20261206T0800Z', 'tools/bench/reports/load-latest');
 */
export const writeLoadReport = (report: LoadReport, dir: string, latest?: string): void => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'load.md'), markdown(report));
  const numbers = { ...report, results: report.results.map(({ latenciesMs: _latencies, ...rest }) => rest) };
  writeFileSync(join(dir, 'load.json'), `${JSON.stringify(numbers, null, 2)}\n`);
  writeFileSync(join(dir, 'load.svg'), renderLoadChart(report.results, `${report.command} — ${report.startedAt}`));
  if (latest) {
    rmSync(latest, { recursive: true, force: true });
    cpSync(dir, latest, { recursive: true });
  }
};

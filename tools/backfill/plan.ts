import { almaBudgetShares } from '@alma-cache/cache-domain';

/** How fast a backfill goes, derived from the stage's budget. */
export interface BackfillPace {
  /** The stage's budget, `ALMA_CALLS_PER_SECOND`. */
  readonly budget: number;
  /** The bulk refresh's share of it (`almaBudgetShares(budget).refresh`): every background rebuild comes out of it. */
  readonly refreshShare: number;
  /** The part of the refresh share the backfill takes (0 < share ≤ 1). */
  readonly share: number;
  readonly callsPerSecond: number;
  readonly patronsPerSecond: number;
  readonly callsPerPatron: number;
}

/**
 * The backfill's pace: `share` of the bulk refresh's share of the stage's budget, in patrons per second at
 * `callsPerPatron` Alma calls each. The rebuilds run in `update-user`, whose calls come out of the refresh share, so
 * a backfill never touches the query misses' share, and at the default half leaves the other half of the refresh
 * share to the rebuilds webhooks and admins ask for.
 *
 * @example
 * paceOf(10, 0.5, 3); // { refreshShare: 3, callsPerSecond: 1.5, patronsPerSecond: 0.5, … }
 */
export const paceOf = (budget: number, share: number, callsPerPatron: number): BackfillPace => {
  const refreshShare = almaBudgetShares(budget).refresh;
  const callsPerSecond = refreshShare * share;
  return { budget, refreshShare, share, callsPerSecond, patronsPerSecond: callsPerSecond / callsPerPatron, callsPerPatron };
};

/**
 * The pace in words.
 *
 * @example
 * describePace(paceOf(10, 0.5, 3)); // "1.50 calls/s = 0.5 of the bulk refresh's share (3 of the stage's 10 calls/s) = 0.50 patrons/s"
 */
export const describePace = (pace: BackfillPace): string =>
  `${pace.callsPerSecond.toFixed(2)} calls/s = ${Number(pace.share.toFixed(3))} of the bulk refresh's share (${pace.refreshShare} of the stage's ` +
  `${pace.budget} calls/s) = ${pace.patronsPerSecond.toFixed(2)} patrons/s`;

/** What a run would do, as the dry run prints it. */
export interface BackfillPlan {
  readonly run: string;
  readonly stage: string;
  /** Where the ids come from, for people: `ids.txt`, `Alma's users list`. */
  readonly from: string;
  /** Entries in the list (for Alma's list, its `total_record_count` now). */
  readonly total: number;
  /** Where the run would start: 0, or where an earlier session of it stopped. */
  readonly position: number;
  readonly finished: boolean;
  /** Alma pages still to read (`--from-alma`: 100 users per call), 0 for a file. */
  readonly listPages: number;
  readonly duplicates?: number;
  readonly pace: BackfillPace;
  /** The institution's daily API request limit, when given (`--daily-limit`). */
  readonly dailyLimit?: number;
}

const whole = (value: number): string => Math.round(value).toLocaleString('en-US');
const percent = (part: number, all: number): string => `${((part / all) * 100).toFixed(1)} %`;

/** Hours, or minutes under an hour, to one decimal. */
export const formatDuration = (seconds: number): string =>
  !Number.isFinite(seconds) ? 'never' : seconds < 3600 ? `${(seconds / 60).toFixed(1)} min` : `${(seconds / 3600).toFixed(1)} h`;

/**
 * The dry run's lines: patrons, Alma calls (an upper bound: patrons already complete cost none), time at the pace,
 * and the share of the daily API limit when one is given.
 *
 * @example
 * describePlan({ run: 'semester', stage: 'stg', from: 'ids.txt', total: 10_000, position: 0, finished: false,
 *   listPages: 0, pace: paceOf(10, 0.5, 3) });
 * // ['backfill "semester" on stg: 10,000 patrons from ids.txt', '  Alma calls: at most 30,000 …', …]
 */
export const describePlan = (plan: BackfillPlan): string[] => {
  const { pace } = plan;
  const remaining = Math.max(0, plan.total - plan.position);
  const refreshCalls = remaining * pace.callsPerPatron;
  const calls = refreshCalls + plan.listPages;
  const seconds = remaining / pace.patronsPerSecond;
  const where = plan.position > 0 ? ` (resuming at ${whole(plan.position)}: ${whole(remaining)} to go)` : '';
  const lines = [
    `backfill "${plan.run}" on ${plan.stage}: ${whole(plan.total)} patrons from ${plan.from}${where}` +
      (plan.duplicates ? `; ${whole(plan.duplicates)} duplicate line(s) left out` : ''),
  ];
  if (plan.finished) lines.push('  this run has already reached the end of its list: nothing to do (--restart to walk it again)');
  lines.push(
    `  Alma calls: at most ${whole(calls)} (${pace.callsPerPatron} per patron rebuilt` +
      (plan.listPages > 0 ? `, + ${whole(plan.listPages)} list pages of 100` : '') +
      '); patrons already complete in the cache are skipped and cost none',
    `  pace: ${describePace(pace)}; it also waits while the budget is busy or the Users queue holds more than a few seconds of work`,
    `  time: ${formatDuration(seconds)} at that pace (${(seconds / 3600).toFixed(2)} hours)`,
  );
  if (plan.dailyLimit !== undefined) {
    const perDay = pace.callsPerSecond * 86_400;
    lines.push(
      `  daily API limit ${whole(plan.dailyLimit)}: ${whole(perDay)} calls/day at that pace = ${percent(perDay, plan.dailyLimit)} of it; ` +
        `the whole backfill = ${percent(calls, plan.dailyLimit)} of one day's limit`,
    );
  }
  return lines;
};

import type { BackfillProgressReport } from './backfill';

const WIDTH = 24;

/** Minutes and seconds, or hours and minutes past an hour. */
export const formatEta = (seconds: number | undefined): string => {
  if (seconds === undefined || !Number.isFinite(seconds)) return '?';
  const whole = Math.round(seconds);
  const two = (n: number) => String(n).padStart(2, '0');
  return whole >= 3600 ? `${Math.floor(whole / 3600)}h${two(Math.floor((whole % 3600) / 60))}m` : `${Math.floor(whole / 60)}:${two(whole % 60)}`;
};

/**
 * One progress line: done / total, the outcomes, Alma calls spent, rate and ETA.
 *
 * @example
 * formatProgress(report); // '[##########..............] 200/500  40%  queued 180  cached 20  calls ~540  9.8/s  ETA 0:31'
 */
export const formatProgress = (report: BackfillProgressReport): string => {
  const ratio = report.total > 0 ? Math.min(1, report.position / report.total) : 0;
  const filled = Math.round(ratio * WIDTH);
  const outcomes = Object.entries(report.counts)
    .filter(([, count]) => count > 0)
    .map(([outcome, count]) => `${outcome} ${count}`)
    .join('  ');
  return (
    `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${report.position}/${report.total} ${String(Math.round(ratio * 100)).padStart(3)}%` +
    `  ${outcomes}  calls ~${report.calls}  ${report.rate.toFixed(1)}/s  ETA ${formatEta(report.etaSeconds)}`
  );
};

/**
 * Draws the progress on `stream`: redrawn in place on a terminal (at most 10 times a second), else one plain line per
 * tenth of the list or per 30 s, whichever comes first, so that logs stay readable.
 *
 * @example
 * const progress = progressPrinter(process.stderr);
 * progress.update(report); … progress.done();
 */
export const progressPrinter = (stream: NodeJS.WritableStream & { isTTY?: boolean }, now: () => number = Date.now) => {
  let lastDraw = -Infinity;
  let lastTenth = -1;
  let drawn = false;
  return {
    update(report: BackfillProgressReport): void {
      const at = now();
      if (stream.isTTY) {
        if (at - lastDraw < 100) return;
        lastDraw = at;
        drawn = true;
        stream.write(`\r${formatProgress(report)}\u001b[K`);
        return;
      }
      const tenth = report.total > 0 ? Math.floor((report.position / report.total) * 10) : 0;
      if (tenth > lastTenth || at - lastDraw >= 30_000) {
        lastTenth = tenth;
        lastDraw = at;
        stream.write(`${formatProgress(report)}\n`);
      }
    },
    /** Ends the line drawn in place, so what follows starts on its own line. */
    done(): void {
      if (stream.isTTY && drawn) stream.write('\n');
    },
  };
};

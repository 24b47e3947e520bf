import type { ParkedMessage } from './classify';

/** Lays out rows as a plain-text table, each column as wide as its widest cell. */
export const formatTable = (header: string[], rows: string[][]): string => {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const format = (row: string[]) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join('  ');
  return [format(header), format(widths.map((width) => '-'.repeat(width))), ...rows.map(format)].join('\n');
};

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** How many messages share each value of `key`, most frequent first. */
export const countBy = <T>(items: T[], key: (item: T) => string): [string, number][] => {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
};

/** `list`'s output: one row per message (id, kind, subject, attempts, reason), then the counts per reason. */
export const formatListing = (queueName: string, messages: ParkedMessage[], more: boolean): string => {
  if (messages.length === 0) return `${queueName}: empty`;
  const rows = messages.map((message) => [
    message.messageId.slice(0, 8),
    message.kind,
    clip(message.subject, 48),
    message.attempts ? String(message.attempts) : message.receiveCount ? `${message.receiveCount} rcv` : '',
    clip(message.reason, 100) +
      (message.notReplayable
        ? ' [cannot be replayed from the message]'
        : message.refusedNow
          ? ` [not replayable now: ${clip(message.refusedNow, 120)}]`
          : ''),
  ]);
  const counts = countBy(messages, (message) => message.reasonKey).map(([reason, count]) => `  ${String(count).padStart(4)}  ${reason}`);
  return [
    `${queueName}: ${messages.length} message(s)${more ? ' shown (more are queued: --max)' : ''}`,
    '',
    formatTable(['id', 'kind', 'subject', 'tries', 'reason'], rows),
    '',
    'per reason:',
    ...counts,
  ].join('\n');
};

/** What happened to each message of a replay. */
export interface ReplayResult {
  message: ParkedMessage;
  /** `refused`: the function would refuse it now (malformed, past the replay horizon), so it was left parked. */
  outcome: 'replayed' | 'failed' | 'refused' | 'skipped' | 'planned';
  /** The replay's result, the failure's reason, the refusal's or the skip's reason, or the plan. */
  detail: string;
  /** A replayed message whose delete failed: it stays queued and a later run would replay it again. */
  notDeleted?: string;
}

/** The end-of-run summary: counts, then failures, refusals and skips grouped by reason. */
export const formatSummary = (results: ReplayResult[], dryRun: boolean): string => {
  const of = (outcome: ReplayResult['outcome']) => results.filter((result) => result.outcome === outcome);
  const grouped = (items: ReplayResult[]) =>
    countBy(items, (result) => result.detail).map(([reason, count]) => `    ${String(count).padStart(4)}  ${reason}`);
  const refused = of('refused');
  const refusedLines = refused.length > 0 ? ['  refused (the function would refuse them again; left parked):', ...grouped(refused)] : [];
  if (dryRun) {
    return [
      `dry run: ${of('planned').length} would be replayed, ${of('skipped').length} skipped${refused.length > 0 ? `, ${refused.length} refused` : ''}; nothing was sent or deleted (add --yes to act)`,
      ...grouped(of('planned')).map((line) => line.replace(/^ {4}/, '  would ')),
      ...(of('skipped').length > 0 ? ['  skipped:', ...grouped(of('skipped'))] : []),
      ...refusedLines,
    ].join('\n');
  }
  const notDeleted = results.filter((result) => result.notDeleted);
  return [
    `replayed ${of('replayed').length} (deleted ${of('replayed').length - notDeleted.length}), failed ${of('failed').length} (kept), skipped ${of('skipped').length} (kept)` +
      (refused.length > 0 ? `, refused ${refused.length} (kept)` : ''),
    ...(of('failed').length > 0 ? ['  failed:', ...grouped(of('failed'))] : []),
    ...(of('skipped').length > 0 ? ['  skipped:', ...grouped(of('skipped'))] : []),
    ...refusedLines,
    ...(notDeleted.length > 0
      ? [
          '  replayed but not deleted (a later run replays them again):',
          ...notDeleted.map((result) => `    ${result.message.messageId}: ${result.notDeleted}`),
        ]
      : []),
  ].join('\n');
};

import { type AuditTotals, ITEM_KINDS, type PatronAudit, type RecordDrift } from '@alma-cache/cache-domain';

/** One audit run as the app's AuditRunner answers it (apps/refresh-lambdas/src/audit-runner.ts). */
export interface AuditRunResult {
  readonly totals: AuditTotals;
  readonly drifted: readonly PatronAudit[];
  readonly almaCalls: number;
  readonly ms: number;
}

const describe = (drift: RecordDrift): string => (drift.drift === 'different' ? drift.fields.join(', ') : drift.reason);

/**
 * The differences as a table for people, one row per record. The command is run by an operator who named the patrons
 * or may read the tables, so ids are shown here (never in the function's logs).
 *
 * @example
 * driftTable(run.drifted); // ['patron    kind  record  drift      reason / fields', 'pat0042x  loan  7391…  different  due_date']
 */
export const driftTable = (audits: readonly PatronAudit[]): string[] => {
  const rows: string[][] = [['patron', 'kind', 'record', 'drift', 'reason / fields']];
  for (const audit of audits) {
    if (audit.result === 'gone-from-alma') rows.push([audit.userKey, '-', '-', 'gone', 'Alma no longer knows the patron']);
    for (const drift of audit.drifts) rows.push([audit.userKey, drift.kind, drift.itemId, drift.drift, describe(drift)]);
  }
  if (rows.length === 1) return [];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join('  '));
};

/**
 * The run's totals in a few lines: patrons, Alma calls and time, then record counts by kind and field.
 *
 * @example
 * summaryLines(run, 'stg', false)[0]; // 'stg: audited 60 patrons, 2 drifted, 0 repaired, 1 in flight (not counted); 180 Alma calls in 41.2 s'
 */
export const summaryLines = (run: AuditRunResult, stage: string, repair: boolean): string[] => {
  const { totals } = run;
  const lines = [
    `${stage}: audited ${totals.audited} patron${totals.audited === 1 ? '' : 's'}, ${totals.drifted} drifted, ${totals.repaired} repaired, ` +
      `${totals.inFlight} in flight (not counted); ${run.almaCalls} Alma calls in ${(run.ms / 1000).toFixed(1)} s`,
  ];
  const counts = (label: string, byKind: Record<string, number>) => {
    const parts = ITEM_KINDS.filter((kind) => byKind[kind] > 0).map((kind) => `${kind} ${byKind[kind]}`);
    if (parts.length > 0) lines.push(`  records ${label}: ${parts.join(', ')}`);
  };
  counts('missing', totals.missing);
  counts('extra', totals.extra);
  const different = ITEM_KINDS.flatMap((kind) => Object.entries(totals.different[kind]).map(([field, count]) => `${kind}.${field} ${count}`));
  if (different.length > 0) lines.push(`  records different: ${different.join(', ')}`);
  if (totals.budgetPauses > 0 || totals.leftForLater > 0) {
    lines.push(`  the budget's refresh share was busy: paused ${totals.budgetPauses} time(s), ${totals.leftForLater} patron(s) left unaudited`);
  }
  if (totals.drifted > totals.repaired && !repair) lines.push('  nothing was written: run again with --repair to write the fix');
  return lines;
};

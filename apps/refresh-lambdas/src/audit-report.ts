import { createHmac } from 'node:crypto';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { type AuditTotals, ITEM_KINDS, type PatronAudit, userCacheKey } from '@alma-cache/cache-domain';

/**
 * The drift audit's metrics, namespace `AlmaCache`, dimension `service` (alma-cache-refresh) and those named. The alarm
 * `alma-cache-refresh-<stage>-cache-drift` divides the first two.
 */
export const AUDIT_METRICS = {
  /** Patrons compared with Alma (a patron not cached, or not yet refreshed once, is not counted). */
  audited: 'AuditedPatrons',
  /** Of those, patrons with at least one record that drifted (or whom Alma no longer knows). */
  drifted: 'DriftedPatrons',
  /** Of those, patrons repaired by the run. */
  repaired: 'RepairedPatrons',
  /** Records Alma lists that readers of the cache do not see; dimension `kind`. */
  missing: 'DriftRecordsMissing',
  /** Records the cache shows that Alma does not list; dimension `kind`. */
  extra: 'DriftRecordsExtra',
  /** Records that differ, once per differing field; dimensions `kind` and `field` (Alma's field name). */
  different: 'DriftRecordsDifferent',
  /** Differences on records changed within the grace period, not counted as drift (a webhook may be in flight). */
  inFlight: 'DriftInFlight',
  /** HTTP requests the run sent to Alma, retries included. */
  almaCalls: 'AuditAlmaCalls',
} as const;

/**
 * Publishes a run's totals: the two patron counts and the Alma calls on the function's metric set, each record count
 * on a single-metric document of its own dimensions. Zeros are published too, so the alarm's ratio has data every run.
 *
 * @example
 * publishAuditMetrics(metrics, totals, almaCalls); metrics.publishStoredMetrics();
 */
export const publishAuditMetrics = (metrics: Metrics, totals: AuditTotals, almaCalls: number): void => {
  metrics.addMetric(AUDIT_METRICS.audited, MetricUnit.Count, totals.audited);
  metrics.addMetric(AUDIT_METRICS.drifted, MetricUnit.Count, totals.drifted);
  metrics.addMetric(AUDIT_METRICS.repaired, MetricUnit.Count, totals.repaired);
  metrics.addMetric(AUDIT_METRICS.inFlight, MetricUnit.Count, totals.inFlight);
  metrics.addMetric(AUDIT_METRICS.almaCalls, MetricUnit.Count, almaCalls);
  for (const kind of ITEM_KINDS) {
    for (const drift of ['missing', 'extra'] as const) {
      const single = metrics.singleMetric();
      single.addDimension('kind', kind);
      single.addMetric(AUDIT_METRICS[drift], MetricUnit.Count, totals[drift][kind]);
    }
    for (const [field, count] of Object.entries(totals.different[kind])) {
      const single = metrics.singleMetric();
      single.addDimensions({ kind, field });
      single.addMetric(AUDIT_METRICS.different, MetricUnit.Count, count);
    }
  }
};

/**
 * A patron id as the audit's log lines carry it: the query API's scheme (HMAC-SHA256 keyed with the stage's pepper,
 * over the cache key, in hex; apps/query-api/src/query-audit.ts `patronLogHash`), under the same SSM pepper, so a
 * drifted patron's hash is the one in the query API's log lines about them, and no id is in clear.
 *
 * @example
 * auditPatronHash('pepper-of-stg', 'PAT0042X') === auditPatronHash('pepper-of-stg', 'pat0042x'); // true
 */
export const auditPatronHash = (pepper: string, patronId: string): string =>
  createHmac('sha256', pepper).update(userCacheKey(patronId), 'utf8').digest('hex');

/** What one drifted patron's log line says: counts by drift and reason, and the fields that differ; never an id or a title. */
export interface DriftLogFields {
  readonly patron: string;
  readonly result: PatronAudit['result'];
  readonly repaired: boolean;
  /** e.g. `{ 'loan.missing.not-cached': 1, 'request.extra.not-listed': 2 }` */
  readonly records: Readonly<Record<string, number>>;
  /** e.g. `{ loan: ['due_date'], fee: ['balance'] }` */
  readonly fields: Readonly<Record<string, readonly string[]>>;
  readonly inFlight: number;
}

/**
 * The fields of the one log line written per drifted patron: the hashed id and what differed, counted, with Alma's
 * field names (never a record id, a title or any value).
 *
 * @example
 * logger.warn('Cache drifted from Alma', driftLogFields(pepper, audit));
 */
export const driftLogFields = (pepper: string, audit: PatronAudit): DriftLogFields => {
  const records: Record<string, number> = {};
  const fields: Record<string, string[]> = {};
  for (const drift of audit.drifts) {
    const key = `${drift.kind}.${drift.drift}.${drift.reason}`;
    records[key] = (records[key] ?? 0) + 1;
    if (drift.drift === 'different') fields[drift.kind] = [...new Set([...(fields[drift.kind] ?? []), ...drift.fields])].sort();
  }
  return {
    patron: auditPatronHash(pepper, audit.userKey),
    result: audit.result,
    repaired: audit.repaired,
    records,
    fields,
    inFlight: audit.inFlight,
  };
};

import { AlmaBudgetExhaustedError, AlmaUserNotFoundError } from '../errors';
import type { AlmaRecord } from '../shared/alma-api.port';
import { type RefreshDeps, refreshStamp } from '../refresh/refresh-support';
import { RefreshUser } from '../refresh/refresh-user.use-case';
import { userCacheKey } from '../shared/alma-event';
import { ITEM_KINDS, ITEM_SHAPES, type ItemKind } from '../shared/cache-record';
import type { CacheAuditReader } from './cache-audit-reader.port';
import { comparePatron, DEFAULT_AUDIT_GRACE_SECONDS, type RecordDrift } from './patron-drift';

/** What the audit needs: the refresh's dependencies (the same Alma client, store and write rule) and a reader. */
export interface AuditDeps extends RefreshDeps {
  readonly reader: CacheAuditReader;
  /** Records changed more recently than this are not counted as drift (default {@link DEFAULT_AUDIT_GRACE_SECONDS}). */
  readonly graceSeconds?: number;
}

/**
 * `matched`: the cache shows what Alma lists. `drifted`: at least one record counts as drift. `gone-from-alma`: Alma no
 * longer knows the patron the cache holds (drift too: the repair forgets the patron, as the refresh does). `skipped`: the
 * patron is not cached, or their first refresh has not completed, so there is nothing to hold to Alma.
 */
export type PatronAuditResult = 'matched' | 'drifted' | 'gone-from-alma' | 'skipped';

/** One patron's audit. */
export interface PatronAudit {
  readonly userKey: string;
  readonly result: PatronAuditResult;
  readonly drifts: readonly RecordDrift[];
  /** Differences on records changed within the grace: a webhook may be in flight, so not drift. */
  readonly inFlight: number;
  readonly compared: number;
  /** Whether the patron was repaired (only with `repair`, only when drifted). */
  readonly repaired: boolean;
}

/** A run's totals, for metrics and the command's table. */
export interface AuditTotals {
  audited: number;
  drifted: number;
  repaired: number;
  inFlight: number;
  /** Times the run paused because the budget's `refresh` share was busy ({@link AuditOptions.pause}). */
  budgetPauses: number;
  /** Patrons of the sample left unaudited: the share stayed busy after a pause, or `keepGoing` said stop (the next run samples again). */
  leftForLater: number;
  missing: Record<ItemKind, number>;
  extra: Record<ItemKind, number>;
  /** Records that differ, by kind and Alma field name (a record with two fields that differ counts under both). */
  different: Record<ItemKind, Record<string, number>>;
}

export interface AuditOptions {
  /** Write the fix (the refresh's write half, with the snapshot already read); without it nothing is written. */
  readonly repair: boolean;
  /** Called as each patron is done, e.g. for one log line per drifted patron. */
  readonly onPatron?: (audit: PatronAudit) => void;
  /**
   * How the run waits when the stage's Alma budget has no call free for it (`AlmaBudgetExhaustedError`): the audit is
   * background work, so it yields to live traffic, pauses as long as the error says, and tries the patron once more;
   * busy again, it stops and leaves the rest of the sample for the next run. Without it the error propagates.
   */
  readonly pause?: (seconds: number) => Promise<void>;
  /** Asked before each patron: false stops the run there, the rest left for the next run (a Lambda near its timeout). */
  readonly keepGoing?: () => boolean;
}

/**
 * The drift audit: holds cached patrons to Alma. Reads each patron's loans, requests and fees from Alma with the same
 * paged calls as the refresh (three per patron, loans first), compares them with the cache record by record and field by
 * field ({@link comparePatron}), and with `repair` writes what Alma listed by the one write rule every writer uses:
 * {@link RefreshUser.writeSnapshot}, dated before the read, so a webhook newer than the snapshot still wins. A record the
 * patron links that the cache says is another patron's is first unlinked from this patron (an atomic DELETE), so the
 * refresh's tombstone for an unlisted id cannot remove the other patron's live record.
 *
 * @example
 * const audit = new AuditPatrons(deps);
 * const totals = await audit.auditSample(50, { repair: true, onPatron: (one) => log(one) });
 * totals.drifted; // patrons whose cache differed from Alma
 */
export class AuditPatrons {
  private readonly refresh: RefreshUser;

  public constructor(private readonly deps: AuditDeps) {
    this.refresh = new RefreshUser(deps);
  }

  /** Audits a random sample of up to `size` cached, complete patrons, one at a time (the Alma budget paces them). */
  public async auditSample(size: number, options: AuditOptions): Promise<AuditTotals> {
    const totals = emptyTotals();
    const sample = await this.deps.reader.samplePatrons(size);
    for (const [index, userKey] of sample.entries()) {
      const audit = options.keepGoing?.() === false ? undefined : await this.pacedAudit(userKey, options, totals);
      if (audit === undefined) {
        totals.leftForLater = sample.length - index;
        break;
      }
      addTo(totals, audit);
    }
    return totals;
  }

  /** One patron, paused once and tried again when the budget is busy; undefined when it is still busy. */
  private async pacedAudit(userKey: string, options: AuditOptions, totals: AuditTotals): Promise<PatronAudit | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.auditPatron(userKey, options);
      } catch (error) {
        if (!(error instanceof AlmaBudgetExhaustedError) || options.pause === undefined) throw error;
        if (attempt > 1) return undefined;
        totals.budgetPauses += 1;
        await options.pause(error.retryAfterSeconds ?? 1);
      }
    }
  }

  /** Audits one patron (a primary id, any ASCII case) and, with `repair`, repairs them. */
  public async auditPatron(userPrimaryId: string, options: AuditOptions): Promise<PatronAudit> {
    const userKey = userCacheKey(userPrimaryId);
    const audit = await this.compare(userPrimaryId, userKey, options.repair);
    options.onPatron?.(audit);
    return audit;
  }

  private async compare(userPrimaryId: string, userKey: string, repair: boolean): Promise<PatronAudit> {
    const none = { userKey, drifts: [], inFlight: 0, compared: 0, repaired: false };
    const user = await this.deps.store.readUser(userKey);
    if (user === undefined || user.refreshedAt === undefined) return { ...none, result: 'skipped' };
    // Taken before Alma is read: the repair is dated then, so anything a webhook wrote since wins over it.
    const stamp = refreshStamp(this.deps, `audit:${userKey}`);
    let alma: Record<ItemKind, readonly AlmaRecord[]>;
    try {
      const loan = await this.deps.alma.listRecords(userPrimaryId, 'loan');
      const [request, fee] = await Promise.all([
        this.deps.alma.listRecords(userPrimaryId, 'request'),
        this.deps.alma.listRecords(userPrimaryId, 'fee'),
      ]);
      alma = { loan, request, fee };
    } catch (error) {
      if (!(error instanceof AlmaUserNotFoundError)) throw error;
      if (!repair) return { ...none, result: 'gone-from-alma' };
      // The refresh forgets a patron Alma does not know; it asks Alma once more (one call) before it does.
      await this.refresh.execute(userPrimaryId);
      return { ...none, result: 'gone-from-alma', repaired: true };
    }
    const cached = Object.fromEntries(
      await Promise.all(
        ITEM_KINDS.map(async (kind) => {
          const ids = new Set(
            [...user.ids[kind], ...alma[kind].map((record) => String(record[ITEM_SHAPES[kind].idField] ?? ''))].filter((id) => id !== ''),
          );
          return [kind, await this.deps.reader.readRecords(kind, ids)] as const;
        }),
      ),
    ) as Record<ItemKind, Awaited<ReturnType<CacheAuditReader['readRecords']>>>;
    const comparison = comparePatron({
      user,
      alma,
      cached,
      now: this.deps.clock.now(),
      graceSeconds: this.deps.graceSeconds ?? DEFAULT_AUDIT_GRACE_SECONDS,
    });
    const drifted = comparison.drifts.length > 0;
    if (drifted && repair) {
      for (const drift of comparison.drifts) {
        if (drift.drift === 'extra' && drift.reason === 'another-patron') await this.deps.store.unlinkItem(userKey, drift.kind, drift.itemId);
      }
      await this.refresh.writeSnapshot(userPrimaryId, alma, stamp);
    }
    return { userKey, result: drifted ? 'drifted' : 'matched', ...comparison, repaired: drifted && repair };
  }
}

/**
 * Empty totals, to add patrons to with {@link addTo}.
 *
 * @example
 * const totals = emptyTotals(); addTo(totals, await audit.auditPatron('PAT0042X', { repair: false }));
 */
export const emptyTotals = (): AuditTotals => ({
  audited: 0,
  drifted: 0,
  repaired: 0,
  inFlight: 0,
  budgetPauses: 0,
  leftForLater: 0,
  missing: { loan: 0, request: 0, fee: 0 },
  extra: { loan: 0, request: 0, fee: 0 },
  different: { loan: {}, request: {}, fee: {} },
});

/**
 * Adds one patron's audit to `totals` (a skipped patron counts as not audited).
 *
 * @example
 * addTo(totals, patronAudit); totals.audited; // one more
 */
export const addTo = (totals: AuditTotals, audit: PatronAudit): AuditTotals => {
  if (audit.result === 'skipped') return totals;
  totals.audited += 1;
  totals.inFlight += audit.inFlight;
  if (audit.result === 'drifted' || audit.result === 'gone-from-alma') totals.drifted += 1;
  if (audit.repaired) totals.repaired += 1;
  for (const drift of audit.drifts) {
    if (drift.drift === 'different')
      for (const field of drift.fields) totals.different[drift.kind][field] = (totals.different[drift.kind][field] ?? 0) + 1;
    else totals[drift.drift][drift.kind] += 1;
  }
  return totals;
};

import type { Logger } from '@aws-lambda-powertools/logger';
import { addTo, type AuditPatrons, type AuditTotals, emptyTotals, type PatronAudit } from '@alma-cache/cache-domain';
import type { AlmaCallMeter } from './alma-call-meter';
import { driftLogFields } from './audit-report';

/** What to audit: a random sample of `sample` patrons, or the patrons named. */
export type AuditTarget = { readonly sample: number } | { readonly patrons: readonly string[] };

export interface AuditRun {
  readonly totals: AuditTotals;
  /** The patrons that drifted (or whom Alma no longer knows), for the command's table. */
  readonly drifted: readonly PatronAudit[];
  /** HTTP requests sent to Alma during the run, retries included, counted as the refresh counts them. */
  readonly almaCalls: number;
  readonly ms: number;
}

/**
 * One audit run, for the scheduled function and the command alike: counts its Alma requests, writes one log line per
 * drifted patron (hashed id, what differed: `Cache drifted from Alma`), and pauses when the stage's budget is busy.
 *
 * @example
 * const { totals, almaCalls } = await runner.run({ sample: 60 }, { repair: true });
 */
export class AuditRunner {
  public constructor(
    private readonly audit: AuditPatrons,
    private readonly meter: AlmaCallMeter,
    private readonly logger: Logger,
    private readonly pepper: () => Promise<string>,
  ) {}

  public async run(target: AuditTarget, options: { readonly repair: boolean; readonly keepGoing?: () => boolean }): Promise<AuditRun> {
    const pepper = await this.pepper();
    const drifted: PatronAudit[] = [];
    const onPatron = (audit: PatronAudit): void => {
      if (audit.result !== 'drifted' && audit.result !== 'gone-from-alma') return;
      drifted.push(audit);
      this.logger.warn('Cache drifted from Alma', { ...driftLogFields(pepper, audit) });
    };
    const pause = (seconds: number) => new Promise<void>((resolve) => setTimeout(resolve, seconds * 1000));
    const measured = await this.meter.measure(async () => {
      if ('sample' in target) return this.audit.auditSample(target.sample, { repair: options.repair, onPatron, pause, keepGoing: options.keepGoing });
      const totals = emptyTotals();
      for (const patron of target.patrons) addTo(totals, await this.audit.auditPatron(patron, { repair: options.repair, onPatron }));
      return totals;
    });
    return { totals: measured.value, drifted, almaCalls: measured.calls, ms: measured.ms };
  }
}

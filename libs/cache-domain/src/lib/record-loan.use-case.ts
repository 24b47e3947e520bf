import { AlmaEventType, parseItemEvent } from './alma-event';
import { type ItemSyncDeps, type SyncOutcome, syncItem } from './item-sync';

/**
 * Caches a created, renewed or re-dated loan and links it to its patron.
 *
 * @example
 * const outcome = await new RecordLoan(deps).execute(snsMessage);
 * outcome.user; // 'linked', 'unlinked', 'refresh-requested', …
 */
export class RecordLoan {
  public static readonly eventTypes = [AlmaEventType.LOAN_CREATED, AlmaEventType.LOAN_RENEWED, AlmaEventType.LOAN_DUE_DATE] as const;

  public constructor(private readonly deps: ItemSyncDeps) {}

  /** @throws InvalidEventError (before any write) when the message cannot be applied */
  public async execute(message: string): Promise<SyncOutcome> {
    const event = parseItemEvent(message, 'loan', RecordLoan.eventTypes);
    return syncItem(this.deps, event, 'upsert');
  }
}

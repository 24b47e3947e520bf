import { AlmaEventType, parseItemEvent } from './alma-event';
import { type ItemSyncDeps, type SyncOutcome, syncItem } from './item-sync';

/**
 * Replaces a returned loan with a tombstone and unlinks it from its patron.
 *
 * @example
 * const outcome = await new RemoveLoan(deps).execute(snsMessage);
 * outcome.user; // 'linked', 'unlinked', 'refresh-requested', …
 */
export class RemoveLoan {
  public static readonly eventTypes = [AlmaEventType.LOAN_RETURNED] as const;

  public constructor(private readonly deps: ItemSyncDeps) {}

  /** @throws InvalidEventError (before any write) when the message cannot be applied */
  public async execute(message: string): Promise<SyncOutcome> {
    const event = parseItemEvent(message, 'loan', RemoveLoan.eventTypes);
    return syncItem(this.deps, event, 'remove');
  }
}

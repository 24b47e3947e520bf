import { AlmaEventType, parseItemEvent } from '../shared/alma-event';
import { type ItemSyncDeps, type SyncOutcome, syncItem } from './item-sync';
import { ExtraAlmaEventType } from '../webhooks/webhook-routing';

/**
 * Replaces a returned loan with a tombstone and unlinks it from its patron. A loan declared lost (LOAN_LOST, which the
 * webhook receiver publishes to the LOAN_RETURNED topic) leaves the patron's loans the same way.
 *
 * @example
 * const outcome = await new RemoveLoan(deps).execute(snsMessage);
 * outcome.user; // 'linked', 'unlinked', 'refresh-requested', …
 */
export class RemoveLoan {
  public static readonly eventTypes: readonly string[] = [AlmaEventType.LOAN_RETURNED, ExtraAlmaEventType.LOAN_LOST];

  public constructor(private readonly deps: ItemSyncDeps) {}

  /** @throws InvalidEventError (before any write) when the message cannot be applied */
  public async execute(message: string): Promise<SyncOutcome> {
    const event = parseItemEvent(message, 'loan', RemoveLoan.eventTypes, this.deps.clock.now());
    return syncItem(this.deps, event, 'remove');
  }
}

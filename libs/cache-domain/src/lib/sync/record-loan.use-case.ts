import { AlmaEventType, parseItemEvent } from '../shared/alma-event';
import { type ItemSyncDeps, type SyncOutcome, syncItem } from './item-sync';
import { ExtraAlmaEventType } from '../webhooks/webhook-routing';

/**
 * Caches a created, renewed or re-dated loan and links it to its patron. A loan claimed returned
 * (LOAN_CLAIMED_RETURNED, published to the LOAN_DUE_DATE topic) is still open in Alma, so it is recorded the same way.
 *
 * @example
 * const outcome = await new RecordLoan(deps).execute(snsMessage);
 * outcome.user; // 'linked', 'unlinked', 'refresh-requested', …
 */
export class RecordLoan {
  public static readonly eventTypes: readonly string[] = [
    AlmaEventType.LOAN_CREATED,
    AlmaEventType.LOAN_RENEWED,
    AlmaEventType.LOAN_DUE_DATE,
    ExtraAlmaEventType.LOAN_CLAIMED_RETURNED,
  ];

  public constructor(private readonly deps: ItemSyncDeps) {}

  /** @throws InvalidEventError (before any write) when the message cannot be applied */
  public async execute(message: string): Promise<SyncOutcome> {
    const event = parseItemEvent(message, 'loan', RecordLoan.eventTypes, this.deps.clock.now());
    return syncItem(this.deps, event, 'upsert');
  }
}

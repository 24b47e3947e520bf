import { AlmaEventType, parseItemEvent } from '../shared/alma-event';
import { type ItemSyncDeps, type SyncOutcome, syncItem } from './item-sync';

/**
 * Replaces a canceled or closed request with a tombstone and unlinks it from its patron.
 *
 * @example
 * const outcome = await new CloseRequest(deps).execute(snsMessage);
 * outcome.user; // 'linked', 'unlinked', 'refresh-requested', …
 */
export class CloseRequest {
  public static readonly eventTypes = [AlmaEventType.REQUEST_CANCELED, AlmaEventType.REQUEST_CLOSED] as const;

  public constructor(private readonly deps: ItemSyncDeps) {}

  /** @throws InvalidEventError (before any write) when the message cannot be applied */
  public async execute(message: string): Promise<SyncOutcome> {
    const event = parseItemEvent(message, 'request', CloseRequest.eventTypes, this.deps.clock.now());
    return syncItem(this.deps, event, 'remove');
  }
}

import { AlmaEventType, parseItemEvent } from '../shared/alma-event';
import { type ItemSyncDeps, type SyncOutcome, syncItem } from './item-sync';

/**
 * Caches a new or on-shelf request and links it to its patron.
 *
 * @example
 * const outcome = await new RecordRequest(deps).execute(snsMessage);
 * outcome.user; // 'linked', 'unlinked', 'refresh-requested', …
 */
export class RecordRequest {
  public static readonly eventTypes = [AlmaEventType.REQUEST_CREATED, AlmaEventType.REQUEST_PLACED_ON_SHELF] as const;

  public constructor(private readonly deps: ItemSyncDeps) {}

  /** @throws InvalidEventError (before any write) when the message cannot be applied */
  public async execute(message: string): Promise<SyncOutcome> {
    const event = parseItemEvent(message, 'request', RecordRequest.eventTypes, this.deps.clock.now());
    return syncItem(this.deps, event, 'upsert');
  }
}

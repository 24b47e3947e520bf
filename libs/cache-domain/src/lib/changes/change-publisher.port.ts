import type { CacheChange } from './cache-change';

/**
 * Where change notifications go (the `cache-changes` topic). A publish either succeeds or throws: the caller
 * retries the whole record, and the event's stable id lets subscribers drop the duplicate a retry may cause.
 */
export interface ChangePublisher {
  publish(change: CacheChange): Promise<void>;
}

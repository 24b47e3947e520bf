import { type CacheChange, type CacheItemTransition, detectCacheChanges } from './cache-change';
import type { ChangePublisher } from './change-publisher.port';

/**
 * Publishes the change notifications one write to the cache calls for (see {@link detectCacheChanges}).
 *
 * @example
 * const published = await new PublishCacheChanges(publisher).execute({ before, after });
 * published.map((change) => change.change); // ['request.status-changed']
 * @throws InconsistentTransitionError when the two versions are not of one record; whatever the publisher throws
 */
export class PublishCacheChanges {
  public constructor(private readonly publisher: ChangePublisher) {}

  public async execute(transition: CacheItemTransition): Promise<readonly CacheChange[]> {
    const changes = detectCacheChanges(transition);
    for (const change of changes) await this.publisher.publish(change);
    return changes;
  }
}

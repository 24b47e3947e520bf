import type { UserRefreshQueue } from '../shared/user-refresh-queue.port';
import { validQueryId } from './patron-query-rules';

/**
 * Queues a patron for a rebuild from Alma (the admin's `POST /users/{id}/refresh`). The patron is not looked up
 * first: the refresh itself finds out whether Alma knows them, and removes them from the cache when it does not.
 *
 * @example
 * await new QueuePatronRefresh(queue).execute('PAT0042X'); // { primaryId: 'PAT0042X' }
 * @throws InvalidPatronQueryError when the id cannot be a patron's
 */
export class QueuePatronRefresh {
  public constructor(private readonly refreshQueue: UserRefreshQueue) {}

  public async execute(userPrimaryId: string): Promise<{ readonly primaryId: string }> {
    const primaryId = validQueryId(userPrimaryId, 'patron id');
    await this.refreshQueue.requestRefresh(primaryId);
    return { primaryId };
  }
}

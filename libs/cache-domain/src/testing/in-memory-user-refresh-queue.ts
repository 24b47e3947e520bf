import type { UserRefreshQueue } from '../lib/shared/user-refresh-queue.port';

/**
 * A UserRefreshQueue that keeps the message bodies it was given.
 *
 * @example
 * const queue = new InMemoryUserRefreshQueue();
 * queue.messages; // ['PAT0042X']
 */
export class InMemoryUserRefreshQueue implements UserRefreshQueue {
  public readonly messages: string[] = [];
  private pendingFailure?: Error;

  /** Makes the next send fail with `error`. */
  public failNext(error: Error): void {
    this.pendingFailure = error;
  }

  public async requestRefresh(userPrimaryId: string): Promise<void> {
    const failure = this.pendingFailure;
    this.pendingFailure = undefined;
    if (failure) throw failure;
    this.messages.push(userPrimaryId);
  }
}

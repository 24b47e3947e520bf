/**
 * Asks the bulk-refresh service to rebuild one patron from the Alma API.
 *
 * The message is the patron's primary id as Alma sent it, nothing else: the bulk-refresh consumer expects that.
 */
export interface UserRefreshQueue {
  requestRefresh(userPrimaryId: string): Promise<void>;
}

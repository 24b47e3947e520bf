// The public surface: exactly what other projects import. Test fakes and fixtures come from './testing' only;
// anything else is the library's own and its tests import it from the file that declares it.
export {
  AlmaBudgetExhaustedError,
  AlmaInvalidIdentifierError,
  AlmaRequestError,
  AlmaUnavailableError,
  type AlmaUnavailableKind,
  AlmaUserNotFoundError,
} from './lib/alma-api.errors';
export type { AlmaApi, AlmaRecord } from './lib/alma-api.port';
export type { AlmaCallBudget } from './lib/alma-call-budget.port';
export type { UnknownPatrons } from './lib/unknown-patrons.port';
export { AlmaEventType, MAX_WEBHOOK_BYTES, parseItemEvent, userCacheKey, WEBHOOK_SHAPES } from './lib/alma-event';
export { ITEM_KINDS, ITEM_SHAPES, type ItemKind } from './lib/cache-record';
export { isCacheAttributeName, recordOwner } from './lib/record-fields';
export { identifierProblem, isIdentifier, MAX_IDENTIFIER_LENGTH } from './lib/identifier';
export { InvalidEventError, InvalidWebhookIdError, MalformedEventError } from './lib/cache-domain.errors';
export type { CachedUser, CacheStore, ItemRecord, LinkResult, RefreshClaim, UserSnapshot, WriteResult } from './lib/cache-store.port';
export { type Clock, systemClock } from './lib/clock.port';
export { DEFAULT_EXPIRY_POLICY, type ExpiryPolicy, expiryPolicyProblems, QUEUE_RETENTION_SECONDS, resolveExpiryPolicy } from './lib/expiry-policy';
export type { ItemSyncDeps, SyncOutcome } from './lib/item-sync';
export type { UserRefreshQueue } from './lib/user-refresh-queue.port';
export { RecordLoan } from './lib/record-loan.use-case';
export { RemoveLoan } from './lib/remove-loan.use-case';
export { RecordRequest } from './lib/record-request.use-case';
export { CloseRequest } from './lib/close-request.use-case';
export { parseItemRefreshMessage, parseUserRefreshMessage } from './lib/refresh-message';
export type { RefreshDeps } from './lib/refresh-support';
export { RefreshUser } from './lib/refresh-user.use-case';
export { RefreshItem } from './lib/refresh-item.use-case';
export { type CacheChange, type CacheItemTransition, detectCacheChanges, InconsistentTransitionError } from './lib/cache-change';
export type { ChangePublisher } from './lib/change-publisher.port';
export { PublishCacheChanges } from './lib/publish-cache-changes.use-case';
export type { CachedItem, CachedPatronRecord, CacheReader } from './lib/cache-reader.port';
export { InvalidPatronQueryError, PatronDataUnavailableError, PatronItemNotFoundError, PatronNotFoundError } from './lib/patron-query.errors';
export type { PatronQueryDeps, RefreshRequestOutcome } from './lib/patron-query';
export type { PatronMissDeps } from './lib/patron-miss';
export { GetPatron } from './lib/get-patron.use-case';
export { ListPatronItems } from './lib/list-patron-items.use-case';
export { GetPatronItem } from './lib/get-patron-item.use-case';
export { QueuePatronRefresh } from './lib/queue-patron-refresh.use-case';
export {
  callerOfClaims,
  clientIdOfClaims,
  decideQueryAccess,
  QUERY_SCOPES,
  type QueryAccessDenial,
  type QueryAccessPolicy,
  type QueryAction,
  type QueryRole,
  scopesAllowing,
} from './lib/query-access';
export { ExtraAlmaEventType, WEBHOOK_ROUTING_TABLE, WebhookSkip } from './lib/webhook-routing';
export type { WebhookPublication, WebhookPublisher } from './lib/webhook-publisher.port';
export { ReceiveWebhook, type WebhookReceipt } from './lib/receive-webhook.use-case';

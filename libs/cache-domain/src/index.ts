// The public surface: exactly what other projects import. Test fakes and fixtures come from './testing' only;
// anything else is the library's own and its tests import it from the file that declares it.
export {
  AlmaBudgetExhaustedError,
  AlmaCallerShareExceededError,
  AlmaInvalidIdentifierError,
  AlmaRequestError,
  AlmaUnavailableError,
  type AlmaUnavailableKind,
  AlmaUserNotFoundError,
  InvalidEventError,
  InvalidPatronQueryError,
  InvalidWebhookIdError,
  MalformedEventError,
  PatronDataUnavailableError,
  PatronItemNotFoundError,
  PatronNotFoundError,
} from './lib/errors';

// Shared by the slices: the cache's records, the store port, the clock, identifiers, expiry, Alma's events.
export { AlmaEventType, MAX_WEBHOOK_BYTES, parseItemEvent, userCacheKey, WEBHOOK_SHAPES } from './lib/shared/alma-event';
export { ITEM_KINDS, ITEM_SHAPES, type ItemKind } from './lib/shared/cache-record';
export { isCacheAttributeName, recordOwner } from './lib/shared/record-fields';
export { isJsonObject, type JsonObject } from './lib/shared/json-object';
export { identifierProblem, isIdentifier, MAX_IDENTIFIER_LENGTH } from './lib/shared/identifier';
export type { CachedUser } from './lib/shared/cached-user';
export {
  CLAIM_RETRY_AFTER_SECONDS,
  RELEASED_CLAIM_BACKDATE_SECONDS,
  type CacheStore,
  type ItemRecord,
  type LinkResult,
  type RefreshClaim,
  type UserSnapshot,
  type WriteResult,
} from './lib/shared/cache-store.port';
export { type Clock, systemClock } from './lib/shared/clock.port';
export { DEFAULT_EXPIRY_POLICY, type ExpiryPolicy, QUEUE_RETENTION_SECONDS, readExpiryPolicy, resolveExpiryPolicy } from './lib/shared/expiry-policy';

// Webhooks: an Alma webhook checked and published to its topic.
export { ExtraAlmaEventType, WEBHOOK_ROUTING_TABLE, WebhookSkip } from './lib/webhooks/webhook-routing';
export type { WebhookPublication, WebhookPublisher } from './lib/webhooks/webhook-publisher.port';
export { ReceiveWebhook, type WebhookReceipt } from './lib/webhooks/receive-webhook.use-case';

// Sync: one webhook applied to the cache.
export type { ItemSyncDeps, SyncOutcome } from './lib/sync/item-sync';
export { RecordLoan } from './lib/sync/record-loan.use-case';
export { RemoveLoan } from './lib/sync/remove-loan.use-case';
export { RecordRequest } from './lib/sync/record-request.use-case';
export { CloseRequest } from './lib/sync/close-request.use-case';

// Refresh: a patron or record rebuilt from Alma's API.
export type { AlmaApi, AlmaRecord } from './lib/shared/alma-api.port';
export {
  type AlmaBudgetCaller,
  type AlmaBudgetShare,
  type AlmaBudgetShares,
  type AlmaCallBudget,
  ALMA_BUDGET_SHARES,
  almaBudgetShares,
} from './lib/refresh/alma-call-budget.port';
export type { UnknownPatrons } from './lib/shared/unknown-patrons.port';
export type { UserRefreshQueue } from './lib/shared/user-refresh-queue.port';
export { parseItemRefreshMessage, parseUserRefreshMessage } from './lib/refresh/refresh-message';
export type { RefreshDeps } from './lib/refresh/refresh-support';
export { RefreshUser } from './lib/refresh/refresh-user.use-case';
export { RefreshItem } from './lib/refresh/refresh-item.use-case';
export { BackfillPatron, type BackfillOutcome, type BackfillPatronDeps } from './lib/refresh/backfill-patron.use-case';

// Audit: the cache held to Alma, patron by patron, and repaired by the refresh's write rule.
export type { AuditedRecord, CacheAuditReader } from './lib/audit/cache-audit-reader.port';
export { comparePatron, DEFAULT_AUDIT_GRACE_SECONDS, differentFields, type PatronComparison, type RecordDrift } from './lib/audit/patron-drift';
export {
  addTo,
  AuditPatrons,
  type AuditDeps,
  type AuditOptions,
  type AuditTotals,
  emptyTotals,
  type PatronAudit,
  type PatronAuditResult,
} from './lib/audit/audit-patrons.use-case';

// Changes: what a cache write changed, published for subscribers.
export { type CacheChange, type CacheItemTransition, detectCacheChanges, InconsistentTransitionError } from './lib/changes/cache-change';
export type { ChangePublisher } from './lib/changes/change-publisher.port';
export { PublishCacheChanges } from './lib/changes/publish-cache-changes.use-case';

// Query: the query API's use cases and access rule.
export type { CachedItem, CacheReader } from './lib/query/cache-reader.port';
export type { PatronQueryDeps, RefreshRequestOutcome } from './lib/query/patron-query';
export type { PatronMissDeps } from './lib/query/patron-miss';
export { GetPatron } from './lib/query/get-patron.use-case';
export { ListPatronItems } from './lib/query/list-patron-items.use-case';
export { GetPatronItem } from './lib/query/get-patron-item.use-case';
export { QueuePatronRefresh } from './lib/query/queue-patron-refresh.use-case';
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
} from './lib/query/query-access';

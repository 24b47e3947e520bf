import type { ItemKind } from './shared/cache-record';

// One errors file for the package (as Powertools keeps one per package): handlers catch by class whichever slice threw,
// and a query error builds on Alma's (ALMA_UNAVAILABLE_KINDS). In order: Alma's API (behind the AlmaApi port), an Alma
// event or refresh message the cache cannot apply, a query the query API cannot answer. Each carries a stable `code`
// (a subclass its own), which an app maps to its answer (an HTTP status, a refusal) in one table.

/** Alma has no patron with this primary id: their cached records are removed rather than refreshed. */
export class AlmaUserNotFoundError extends Error {
  public readonly code = 'ALMA_USER_NOT_FOUND';

  public constructor(public readonly userPrimaryId: string) {
    super(`Alma has no user ${JSON.stringify(userPrimaryId)}`);
    this.name = 'AlmaUserNotFoundError';
  }
}

/**
 * Why Alma cannot answer now: `throttled` (its per-second limit, HTTP 429, or this stage's own Alma budget),
 * `daily-limit` (the institution's daily quota is spent) or `unavailable` (5xx, timeouts, network).
 */
export const ALMA_UNAVAILABLE_KINDS = ['throttled', 'daily-limit', 'unavailable'] as const;
export type AlmaUnavailableKind = (typeof ALMA_UNAVAILABLE_KINDS)[number];

/**
 * Alma throttled (HTTP 429), failed (5xx) or timed out on every attempt. Worth retrying later:
 * `retryAfterSeconds` is Alma's hint when it gave one; `kind` says which of these it was, so callers never read it
 * from `reason` (which is for people and logs).
 *
 * @example
 * throw new AlmaUnavailableError('GET …/loans failed 3 time(s); last: HTTP 429 throttled: …', 2, 'throttled');
 */
export class AlmaUnavailableError extends Error {
  /** Stable, for callers that match on it; a subclass has its own. */
  public readonly code: string = 'ALMA_UNAVAILABLE';

  public constructor(
    public readonly reason: string,
    public readonly retryAfterSeconds?: number,
    public readonly kind: AlmaUnavailableKind = 'unavailable',
  ) {
    super(`Alma API unavailable: ${reason}`);
    this.name = 'AlmaUnavailableError';
  }
}

/** Alma refused the request and retrying will not help (bad API key, malformed id, unexpected reply). */
export class AlmaRequestError extends Error {
  /** Stable, for callers that match on it; a subclass has its own. */
  public readonly code: string = 'ALMA_REQUEST_REFUSED';

  public constructor(
    public readonly status: number,
    public readonly reason: string,
  ) {
    super(`Alma API refused the request (HTTP ${status}): ${reason}`);
    this.name = 'AlmaRequestError';
  }
}

/**
 * The stage's own Alma call budget (see `AlmaCallBudget`) had no call left within the wait allowed: Alma was not
 * asked. An {@link AlmaUnavailableError}, so callers treat it like Alma's own per-second throttling.
 */
export class AlmaBudgetExhaustedError extends AlmaUnavailableError {
  /** Stable, for callers that match on it rather than on the class. */
  public override readonly code = 'ALMA_BUDGET_EXHAUSTED';

  public constructor(
    public readonly callsPerSecond: number,
    waitedMs: number,
    retryAfterSeconds = 1,
  ) {
    super(`this stage's Alma budget of ${callsPerSecond} calls/s had no call left for ${waitedMs} ms`, retryAfterSeconds, 'throttled');
    this.name = 'AlmaBudgetExhaustedError';
  }
}

/**
 * One caller of the query API (an OAuth client, or the patron of a patron token) has used its share of the query
 * misses' Alma budget (see `AlmaBudgetCaller`): Alma was not asked. The caller is answered 429 with `Retry-After`;
 * the patron is not queued, since an id enumerated by one reader is no reason to spend the bulk refresh's budget.
 *
 * @example
 * throw new AlmaCallerShareExceededError(4, 1000, 2);
 */
export class AlmaCallerShareExceededError extends AlmaUnavailableError {
  public override readonly code = 'ALMA_CALLER_SHARE_EXCEEDED';

  public constructor(
    public readonly callsPerSecond: number,
    waitedMs: number,
    retryAfterSeconds = 1,
  ) {
    super(`this caller's share of ${callsPerSecond} Alma calls/s had no call left for ${waitedMs} ms`, retryAfterSeconds, 'throttled');
    this.name = 'AlmaCallerShareExceededError';
  }
}

/**
 * An id that fails the identifier rule (`identifierProblem`) was about to be put in an Alma URL: the request was
 * refused before it was built, and Alma was never asked. A bad request of the caller's, never worth a retry: an
 * {@link AlmaRequestError} (so the refresh functions' "retrying will not help" path takes it) whose `status` is the
 * 400 this service answers, not one Alma sent. `reason` names the rule, never echoes the id.
 */
export class AlmaInvalidIdentifierError extends AlmaRequestError {
  public override readonly code = 'ALMA_INVALID_IDENTIFIER';

  public constructor(
    public readonly field: 'userPrimaryId' | 'recordId',
    reason: string,
  ) {
    super(400, `the ${field} ${reason}`);
    this.message = `Not sent to Alma: the ${field} ${reason}`;
    this.name = 'AlmaInvalidIdentifierError';
  }
}

/**
 * An Alma event that can never be applied, however often it is retried.
 *
 * Handlers log it with the Alma event id and let it fail, so that it ends in the
 * service's failure queue with `reason` as its error message.
 */
export class InvalidEventError extends Error {
  /** Stable, for callers that match on it; a subclass has its own. */
  public readonly code: string = 'INVALID_EVENT';

  public constructor(
    public readonly reason: string,
    public readonly almaEventId?: string,
  ) {
    super(almaEventId ? `Alma event ${almaEventId}: ${reason}` : reason);
    this.name = 'InvalidEventError';
  }
}

/** The message is not JSON, or not shaped like the Alma webhook it claims to be. */
export class MalformedEventError extends InvalidEventError {
  public override readonly code: string = 'MALFORMED_EVENT';

  public constructor(reason: string, almaEventId?: string) {
    super(reason, almaEventId);
    this.name = 'MalformedEventError';
  }
}

/**
 * A webhook whose `id` fails the identifier rule ({@link identifierProblem}): it would become the `alma_event_id`
 * message attribute and the key of every log line about the event. `reason` names the rule, never echoes the id.
 */
export class InvalidWebhookIdError extends MalformedEventError {
  public override readonly code = 'INVALID_WEBHOOK_ID';

  public constructor(reason: string) {
    super(reason);
    this.name = 'InvalidWebhookIdError';
  }
}

/** A well-formed Alma event that this function does not handle (its topic subscription is wrong). */
export class UnsupportedEventTypeError extends InvalidEventError {
  public override readonly code = 'UNSUPPORTED_EVENT_TYPE';

  public constructor(
    public readonly eventType: string,
    public readonly accepted: readonly string[],
    almaEventId?: string,
  ) {
    super(`event type ${eventType} is not handled here (accepted: ${accepted.join(', ')})`, almaEventId);
    this.name = 'UnsupportedEventTypeError';
  }
}

/**
 * A record Alma returned that the cache must not store (see `recordFieldsProblem`: fields named like the cache's own
 * attributes, empty names, numbers JSON cannot carry exactly). Asking Alma again returns the same record.
 */
export class MalformedAlmaRecordError extends InvalidEventError {
  public override readonly code = 'MALFORMED_ALMA_RECORD';

  public constructor(reason: string) {
    super(reason);
    this.name = 'MalformedAlmaRecordError';
  }
}

/** A refresh request (a Users, Loans, Requests or Fees queue message) that names no patron or record. */
export class MalformedRefreshMessageError extends InvalidEventError {
  public override readonly code = 'MALFORMED_REFRESH_MESSAGE';

  public constructor(reason: string) {
    super(reason);
    this.name = 'MalformedRefreshMessageError';
  }
}

/** A query names a patron or record id that no patron or record can have (empty, too long, control characters). */
export class InvalidPatronQueryError extends Error {
  public readonly code = 'INVALID_PATRON_QUERY';

  public constructor(public readonly reason: string) {
    super(reason);
    this.name = 'InvalidPatronQueryError';
  }
}

/** Neither the cache nor Alma knows the patron. */
export class PatronNotFoundError extends Error {
  public readonly code = 'PATRON_NOT_FOUND';

  public constructor(public readonly userPrimaryId: string) {
    super(`no patron ${JSON.stringify(userPrimaryId)}`);
    this.name = 'PatronNotFoundError';
  }
}

/** The patron has no such record: none at all, a removed one (tombstone), or one that is another patron's. */
export class PatronItemNotFoundError extends Error {
  public readonly code = 'PATRON_ITEM_NOT_FOUND';

  public constructor(
    public readonly userPrimaryId: string,
    public readonly kind: ItemKind,
    public readonly itemId: string,
  ) {
    super(`patron ${JSON.stringify(userPrimaryId)} has no ${kind} ${JSON.stringify(itemId)}`);
    this.name = 'PatronItemNotFoundError';
  }
}

/**
 * Why Alma could not answer a query the cache could not: the `kind` of an `AlmaUnavailableError` (`throttled`,
 * `daily-limit`, `unavailable`), `refreshing` (another caller is rebuilding the patron from Alma right now: Alma was
 * not asked again), `budget-busy` (the stage's Alma budget had no call left within the wait the request allows: the
 * patron is queued) or `caller-share` (this caller used up its share of the budget: {@link AlmaCallerShareExceededError}).
 */
export const ALMA_UNAVAILABILITY = [...ALMA_UNAVAILABLE_KINDS, 'refreshing', 'budget-busy', 'caller-share'] as const;
export type AlmaUnavailability = (typeof ALMA_UNAVAILABILITY)[number];

/**
 * The cache could not answer and neither could Alma, for now. `retryAfterSeconds` is always set: Alma's own hint
 * when it gave one, otherwise the default for the reason (see `DEFAULT_RETRY_AFTER_SECONDS`).
 */
export class PatronDataUnavailableError extends Error {
  public readonly code = 'PATRON_DATA_UNAVAILABLE';

  public constructor(
    public readonly userPrimaryId: string,
    public readonly unavailability: AlmaUnavailability,
    public readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(`patron ${JSON.stringify(userPrimaryId)} is not cached and Alma is ${unavailability}; retry after ${retryAfterSeconds} s`, options);
    this.name = 'PatronDataUnavailableError';
  }
}

/** Alma has no patron with this primary id: their cached records are removed rather than refreshed. */
export class AlmaUserNotFoundError extends Error {
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
 * An id that fails the identifier rule (`identifierProblem`) was about to be put in an Alma URL: the request was
 * refused before it was built, and Alma was never asked. A bad request of the caller's, never worth a retry: an
 * {@link AlmaRequestError} (so the refresh functions' "retrying will not help" path takes it) whose `status` is the
 * 400 this service answers, not one Alma sent. `reason` names the rule, never echoes the id.
 */
export class AlmaInvalidIdentifierError extends AlmaRequestError {
  public constructor(
    public readonly field: 'userPrimaryId' | 'recordId',
    reason: string,
  ) {
    super(400, `the ${field} ${reason}`);
    this.message = `Not sent to Alma: the ${field} ${reason}`;
    this.name = 'AlmaInvalidIdentifierError';
  }
}

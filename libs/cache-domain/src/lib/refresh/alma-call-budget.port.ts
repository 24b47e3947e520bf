/**
 * The stage's budget of Alma calls per second, shared by every function that calls Alma (the refresh functions and
 * the query API), so that a burst slows down here instead of making Alma throttle the institution's other tools.
 * The Alma client takes one call from it before every HTTP request, retries included.
 *
 * The budget is a true rate: in any sliding second (not only in each clock second) at most `ALMA_CALLS_PER_SECOND`
 * calls are granted, and it is split into two shares (see {@link almaBudgetShares}) so that neither kind of caller can
 * starve the other:
 * - `refresh`, reserved for background work: the bulk refresh's four functions, and any new background caller (a
 *   drift audit, a backfill). Such a caller builds its own budget instance with the `refresh` share and a short
 *   wait: an `AlmaBudgetExhaustedError` (`code` `ALMA_BUDGET_EXHAUSTED`, `retryAfterSeconds` set) is how it learns
 *   that the share is busy, and it should then pause for that long rather than retry at once. It never takes from
 *   the `query` share, so patrons waiting on a miss are never slowed by it.
 * - `query`, the query API's misses; inside it each caller (an OAuth client, or the patron of a patron token: see
 *   {@link AlmaBudgetCaller}) has a bounded share, past which it gets `AlmaCallerShareExceededError` (a 429).
 *
 * @example
 * await budget.take(); // resolves when a call of this budget's share is free in the sliding second
 */
export interface AlmaCallBudget {
  /**
   * Waits until a call is available and takes it.
   *
   * @throws AlmaBudgetExhaustedError when none became available within the wait the budget allows its caller
   * @throws AlmaCallerShareExceededError when the caller (see {@link AlmaBudgetCaller}) used up its own share
   */
  take(): Promise<void>;
}

/** The two parts of the stage's budget: `refresh` (background work, reserved) and `query` (the query API's misses). */
export const ALMA_BUDGET_SHARES = ['refresh', 'query'] as const;
export type AlmaBudgetShare = (typeof ALMA_BUDGET_SHARES)[number];

/** Calls per sliding second of each share, and of one caller inside the `query` share. */
export interface AlmaBudgetShares {
  readonly refresh: number;
  readonly query: number;
  /** One query API caller's most, out of the `query` share: a patron rebuild takes 3 calls. */
  readonly perCaller: number;
}

/**
 * How the stage's budget is split. A pure function of `ALMA_CALLS_PER_SECOND`, so the query API and the refresh stack,
 * which both read that variable, always agree on it: the bulk refresh keeps 30 % (at least 1), the query misses the
 * rest, and one caller of the query API at most half of the misses' share (at least 1). The shares add up to the
 * budget; a budget under 2 cannot be split.
 *
 * @example
 * almaBudgetShares(10); // { refresh: 3, query: 7, perCaller: 4 }
 * @throws RangeError when `callsPerSecond` is not a whole number of at least 2
 */
export const almaBudgetShares = (callsPerSecond: number): AlmaBudgetShares => {
  if (!Number.isInteger(callsPerSecond) || callsPerSecond < 2) {
    throw new RangeError(`the Alma budget must be a whole number of at least 2 calls/s to be split in shares, got ${callsPerSecond}`);
  }
  const refresh = Math.max(1, Math.floor((callsPerSecond * 3) / 10));
  const query = callsPerSecond - refresh;
  return { refresh, query, perCaller: Math.max(1, Math.ceil(query / 2)) };
};

/**
 * Who a query API request spends its Alma calls for, and until when it may wait for one. The query API sets it per
 * request; the budget reads it at each `take()`.
 */
export interface AlmaBudgetCaller {
  /**
   * The caller, opaque: `client:<OAuth client id>`, or `patron:<patron id hash>` for a patron token. The adapter
   * hashes it before it becomes a key.
   */
  readonly id: string;
  /** Epoch milliseconds after which the request no longer waits for a call (it is answered 503 and queued instead). */
  readonly waitUntilMs: number;
}

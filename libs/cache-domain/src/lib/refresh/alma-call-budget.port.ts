/**
 * The stage's budget of Alma calls per second, shared by every function that calls Alma (the refresh functions and
 * the query API), so that a burst slows down here instead of making Alma throttle the institution's other tools.
 * The Alma client takes one call from it before every HTTP request, retries included.
 *
 * @example
 * await budget.take(); // resolves when this second (or a later one) still has a call left
 */
export interface AlmaCallBudget {
  /**
   * Waits until a call is available and takes it.
   *
   * @throws AlmaBudgetExhaustedError when none became available within the wait the budget allows its caller
   */
  take(): Promise<void>;
}

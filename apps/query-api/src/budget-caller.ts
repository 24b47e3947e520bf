import { AsyncLocalStorage } from 'node:async_hooks';
import type { AlmaBudgetCaller, QueryRole } from '@alma-cache/cache-domain';

/**
 * The request being answered, as the stage's Alma budget sees it (`AlmaBudgetCaller`): set by the routes around each
 * operation, read by the budget at each Alma call. One Alma client serves every request of a warm container, so
 * the caller cannot be a constructor argument; async context carries it through the use cases, which stay unaware.
 */
export const budgetCallers = new AsyncLocalStorage<AlmaBudgetCaller>();

/**
 * Time kept back, from the request's deadline, after the last wait for the budget: one Alma call (its timeout), the
 * writes of the rebuild and the read back. A budget that cannot grant a call before then answers 503 and queues the
 * patron, instead of letting the deadline answer a bare 503 that queues nothing.
 */
export const BUDGET_WAIT_RESERVE_MS = 5000;

/**
 * Who spends the Alma calls of a request: the patron of a patron token (by the hash the log lines use, so a patron
 * cannot take more by using several clients), otherwise the OAuth client (every reader and admin token of one app
 * shares its share), and until when the request may wait for a call.
 *
 * @example
 * budgetCallerOf({ roles: ['reader'], clientId: 'library-app', patronHash: 'ab12…' }, Date.now(), 19_000);
 * // { id: 'client:library-app', waitUntilMs: now + 14 000 }
 */
export const budgetCallerOf = (
  request: { readonly roles: readonly QueryRole[]; readonly clientId?: string; readonly caller?: string; readonly patronHash?: string },
  nowMs: number,
  deadlineMs: number,
): AlmaBudgetCaller => {
  const patronOnly = request.roles.length > 0 && request.roles.every((role) => role === 'patron');
  const id =
    patronOnly && request.patronHash !== undefined ? `patron:${request.patronHash}` : `client:${request.clientId ?? request.caller ?? 'unknown'}`;
  return { id, waitUntilMs: nowMs + Math.max(deadlineMs - BUDGET_WAIT_RESERVE_MS, Math.floor(deadlineMs / 2)) };
};

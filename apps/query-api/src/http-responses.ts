import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  AlmaInvalidIdentifierError,
  AlmaRequestError,
  InvalidPatronQueryError,
  PatronDataUnavailableError,
  PatronItemNotFoundError,
  PatronNotFoundError,
} from '@alma-cache/cache-domain';

/** Every error answer's body. `correlationId` is also the `x-correlation-id` header and in the function's log line. */
export interface ErrorBody {
  readonly message: string;
  readonly correlationId: string;
}

/** The request outlasted the time API Gateway and Lambda leave it: answered as 503 before either gives up with a bare error. */
export class DeadlineExceededError extends Error {
  public readonly code = 'DEADLINE_EXCEEDED';

  public constructor(public readonly budgetMs: number) {
    super(`no answer within ${budgetMs} ms`);
    this.name = 'DeadlineExceededError';
  }
}

/** Seconds a caller is told to wait after a request that ran out of time. */
export const DEADLINE_RETRY_AFTER_SECONDS = 5;

/** How an error is answered and how loudly it is logged. */
export interface HttpFailure {
  readonly status: number;
  readonly message: string;
  readonly headers: Readonly<Record<string, string>>;
  /** `info` for the caller's mistakes, `warn` for Alma's trouble, `error` for this service's faults. */
  readonly severity: 'info' | 'warn' | 'error';
}

const UNAVAILABLE_MESSAGES = {
  throttled: 'Alma is throttling requests and this patron is not cached',
  'daily-limit': "Alma's daily API request limit is reached and this patron is not cached",
  unavailable: 'Alma is unavailable and this patron is not cached',
  refreshing: 'This patron is being rebuilt from Alma right now',
  'budget-busy': "This stage's Alma budget is busy and this patron is not cached; it is queued for a refresh",
  'caller-share': 'This client has used its share of the Alma budget for uncached patrons',
} as const;

/**
 * 503 for what is this service's or Alma's trouble and will pass (an outage, a rebuild running, the stage's budget
 * busy); 429 for what the caller can slow down for (Alma's throttling, its daily limit, this caller's own share).
 */
const SERVICE_UNAVAILABLE = new Set(['unavailable', 'refreshing', 'budget-busy']);

const invalidRequest =
  (severity: HttpFailure['severity']) =>
  (error: { readonly reason: string }): HttpFailure => ({ status: 400, message: `Invalid request: ${error.reason}`, headers: {}, severity });

/** The answer to one error class; undefined for an error of another class that carries the same `code`. */
type Answer = (error: Error) => HttpFailure | undefined;
const answer =
  <E extends Error>(of: abstract new (...args: never[]) => E, build: (error: E) => HttpFailure): Answer =>
  (error) =>
    error instanceof of ? build(error) : undefined;

/**
 * Each error `code` the query API expects, and its answer; any other error is a 500. The class is checked as well as
 * the code, so an SDK or Node error that happens to carry a `code` never borrows a domain answer.
 */
const ANSWERS: Readonly<Record<string, Answer>> = {
  INVALID_PATRON_QUERY: answer(InvalidPatronQueryError, invalidRequest('info')),
  // The Alma URL builder's own refusal: the use cases check ids first, so reaching here means a path they missed.
  ALMA_INVALID_IDENTIFIER: answer(AlmaInvalidIdentifierError, invalidRequest('warn')),
  PATRON_NOT_FOUND: answer(PatronNotFoundError, (error) => ({
    status: 404,
    message: `No patron ${JSON.stringify(error.userPrimaryId)}`,
    headers: {},
    severity: 'info',
  })),
  PATRON_ITEM_NOT_FOUND: answer(PatronItemNotFoundError, (error) => ({
    status: 404,
    message: `Patron ${JSON.stringify(error.userPrimaryId)} has no ${error.kind} ${JSON.stringify(error.itemId)}`,
    headers: {},
    severity: 'info',
  })),
  PATRON_DATA_UNAVAILABLE: answer(PatronDataUnavailableError, (error) => ({
    status: SERVICE_UNAVAILABLE.has(error.unavailability) ? 503 : 429,
    message: `${UNAVAILABLE_MESSAGES[error.unavailability]}; retry after ${error.retryAfterSeconds} s`,
    headers: { 'retry-after': String(error.retryAfterSeconds) },
    severity: 'warn',
  })),
  DEADLINE_EXCEEDED: answer(DeadlineExceededError, () => ({
    status: 503,
    message: `Alma did not answer in time and this patron is not cached; retry after ${DEADLINE_RETRY_AFTER_SECONDS} s`,
    headers: { 'retry-after': String(DEADLINE_RETRY_AFTER_SECONDS) },
    severity: 'warn',
  })),
  // Alma refusing our key, or answering what the client cannot use: the upstream failed this service, which is a
  // 502 (Bad Gateway), not the caller's fault and not a bug here. Logged as an error with the correlation id.
  ALMA_REQUEST_REFUSED: answer(AlmaRequestError, () => ({
    status: 502,
    message: "Alma refused this service's request; quote the correlation id when reporting it",
    headers: {},
    severity: 'error',
  })),
};

const INTERNAL: HttpFailure = { status: 500, message: 'Internal error; quote the correlation id when reporting it', headers: {}, severity: 'error' };

/**
 * The answer to an error a query raised, looked up by its `code` in {@link ANSWERS}. Anything else is a 500 whose
 * message says nothing about the cause (the log line, found by the correlation id, does).
 *
 * @example
 * failureOf(new PatronNotFoundError('PAT0042X')).status; // 404
 */
export const failureOf = (error: unknown): HttpFailure => {
  const code = error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  const answerOf = code !== undefined && Object.hasOwn(ANSWERS, code) ? ANSWERS[code] : undefined;
  return (answerOf && error instanceof Error && answerOf(error)) || INTERNAL;
};

/** Headers on every answer: JSON, never cached by a shared cache (patron data), and the correlation id. */
const baseHeaders = (correlationId: string) => ({
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-correlation-id': correlationId,
});

/** A JSON answer. */
export const jsonResponse = (
  status: number,
  body: unknown,
  correlationId: string,
  headers: Readonly<Record<string, string>> = {},
): APIGatewayProxyStructuredResultV2 => ({
  statusCode: status,
  headers: { ...baseHeaders(correlationId), ...headers },
  body: JSON.stringify(body),
});

/** An error answer: `{ "message", "correlationId" }`. */
export const errorResponse = (
  status: number,
  message: string,
  correlationId: string,
  headers: Readonly<Record<string, string>> = {},
): APIGatewayProxyStructuredResultV2 => jsonResponse(status, { message, correlationId } satisfies ErrorBody, correlationId, headers);

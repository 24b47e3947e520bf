import { isJsonObject, type ItemKind } from '@alma-cache/cache-domain';

/** One entry of Alma's `errorList.error`. */
export interface AlmaErrorDetail {
  readonly errorCode: string;
  readonly errorMessage: string;
  readonly trackingId?: string;
}

/**
 * The entries of Alma's error body (`{"errorsExist":true,"errorList":{"error":[…]},"result":null}`), or `[]` when
 * the body is not one. Alma's XML-to-JSON layer sends a lone error as an object instead of a one-element array, so
 * both are accepted.
 *
 * @example
 * parseAlmaErrors({ errorsExist: true, errorList: { error: [{ errorCode: '401861', errorMessage: 'User …' }] } });
 * // [{ errorCode: '401861', errorMessage: 'User …' }]
 */
export function parseAlmaErrors(body: unknown): AlmaErrorDetail[] {
  if (!isJsonObject(body) || !isJsonObject(body['errorList'])) return [];
  const raw = body['errorList']['error'];
  const entries = Array.isArray(raw) ? raw : [raw];
  return entries.filter(isJsonObject).map((entry) => ({
    errorCode: String(entry['errorCode'] ?? ''),
    errorMessage: String(entry['errorMessage'] ?? ''),
    ...(entry['trackingId'] === undefined ? {} : { trackingId: String(entry['trackingId']) }),
  }));
}

/**
 * Alma's codes for "no such user", from the Users API documentation: 401861 "User with identifier X was not found"
 * (Retrieve user loans) and 401890 "User with identifier X of type Y was not found" (loans, requests, and the
 * single-record GETs).
 */
export const USER_NOT_FOUND_CODES: ReadonlySet<string> = new Set(['401861', '401890']);

/**
 * Alma's codes for "no such record", per kind. The single-record GETs document few codes, so this also takes the
 * codes documented for the other methods on the same resource, which report a missing id the same way:
 * - loan: 401823 "Loan ID XXX does not exist." (renew loan, change due date: POST/PUT …/loans/{loan_id});
 * - request: 401694 "Request Identifier not found." (cancel request: DELETE …/requests/{request_id}) and 401907
 *   "Failed to find a request for the given request ID." (request action: POST …/requests/{request_id});
 * - fee: 401665 "Fine not found." and 401651 "Identifier not found." (both documented for GET …/fees/{fee_id}).
 * Anything else is matched on the message by {@link describesMissingRecord}.
 */
export const RECORD_NOT_FOUND_CODES: Readonly<Record<ItemKind, ReadonlySet<string>>> = {
  loan: new Set(['401823']),
  request: new Set(['401694', '401907']),
  fee: new Set(['401665', '401651']),
};

/**
 * On a list path the user id is the only identifier, so Alma's 401651 "Identifier not found." (documented for
 * GET …/fees) can only mean the patron.
 */
export const LIST_USER_NOT_FOUND_CODES: ReadonlySet<string> = new Set([...USER_NOT_FOUND_CODES, '401651']);

const MISSING = /\b(?:not found|does not exist|doesn't exist|no longer exists|failed to find)\b/i;
const RECORD_WORDS: Readonly<Record<ItemKind, RegExp>> = {
  loan: /\bloan\b/i,
  request: /\brequest\b/i,
  fee: /\b(?:fee|fine)\b/i,
};

/**
 * Whether Alma's message says the record itself is missing (e.g. "Loan ID 123 does not exist"), as opposed to the
 * user ("User with identifier X was not found"), which is never read as a missing record.
 *
 * @example
 * describesMissingRecord('loan', 'Loan ID 7391500230004561 does not exist.'); // true
 * describesMissingRecord('loan', 'User with identifier PAT1 was not found.'); // false
 */
export function describesMissingRecord(kind: ItemKind, message: string): boolean {
  return MISSING.test(message) && RECORD_WORDS[kind].test(message) && !/\buser\b/i.test(message);
}

/** Alma's message(s) in one line, codes and tracking ids included: what a log reader needs to ask Ex Libris. */
export function describeAlmaErrors(errors: readonly AlmaErrorDetail[]): string {
  return errors
    .map(({ errorCode, errorMessage, trackingId }) => `${errorCode} ${errorMessage}`.trim() + (trackingId ? ` (tracking id ${trackingId})` : ''))
    .join('; ');
}

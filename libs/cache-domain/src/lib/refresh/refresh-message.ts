import { MalformedRefreshMessageError } from '../errors';
import type { ItemKind } from '../shared/cache-record';
import { identifierProblem } from '../shared/identifier';

/** A targeted refresh: one record of one patron. */
export interface ItemRefreshRequest {
  readonly userPrimaryId: string;
  readonly kind: ItemKind;
  readonly itemId: string;
}

/** The field naming the record in a Loans, Requests or Fees queue message. */
export const ITEM_REFRESH_ID_FIELDS = {
  loan: 'loanID',
  request: 'requestID',
  fee: 'feeID',
} as const satisfies Record<ItemKind, string>;

// The one identifier rule, so a refresh id and a webhook id share one length cap (MAX_IDENTIFIER_LENGTH) and one
// set of refused characters: these ids go into Alma URLs. Nothing is trimmed: an id with whitespace at an end is
// refused, since a trimmed id would be a different id from the one Alma would be asked about.
const checkedId = (value: unknown, what: string): string => {
  const problem = identifierProblem(value);
  if (problem) throw new MalformedRefreshMessageError(`${what} ${problem}`);
  return value as string;
};

/**
 * Reads a Users queue message: the patron's primary id, bare, as the webhook handlers send it. A JSON string
 * (`"PAT0042X"`) is accepted too, since hand-written messages often come quoted. The body is not trimmed: a bare
 * body is the id, and an id with whitespace at either end is malformed.
 *
 * @example
 * parseUserRefreshMessage('PAT0042X'); // 'PAT0042X'
 * @throws MalformedRefreshMessageError when the body names no patron, or an id that fails the identifier rule
 */
export const parseUserRefreshMessage = (body: string): string => {
  if (body.startsWith('"')) {
    try {
      return checkedId(JSON.parse(body), 'the patron id');
    } catch (error) {
      if (error instanceof MalformedRefreshMessageError) throw error;
      throw new MalformedRefreshMessageError(`the body starts with a quote but is not a JSON string: ${body.slice(0, 80)}`);
    }
  }
  if (body.startsWith('{') || body.startsWith('[')) {
    throw new MalformedRefreshMessageError('the body is JSON, but the Users queue takes a bare patron id');
  }
  return checkedId(body, 'the patron id');
};

/**
 * Reads a Loans, Requests or Fees queue message: `{"userID":"…","loanID":"…"}` (`requestID`, `feeID`).
 *
 * @example
 * parseItemRefreshMessage('{"userID":"PAT0042X","loanID":"7391500230004561"}', 'loan');
 * // { userPrimaryId: 'PAT0042X', kind: 'loan', itemId: '7391500230004561' }
 * @throws MalformedRefreshMessageError when the body is not such an object
 */
export const parseItemRefreshMessage = (body: string, kind: ItemKind): ItemRefreshRequest => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new MalformedRefreshMessageError(`the body is not JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new MalformedRefreshMessageError('the body is JSON but not an object');
  }
  const fields = parsed as Record<string, unknown>;
  const idField = ITEM_REFRESH_ID_FIELDS[kind];
  return {
    userPrimaryId: checkedId(fields['userID'], '"userID"'),
    kind,
    itemId: checkedId(fields[idField], `"${idField}"`),
  };
};

import { AlmaInvalidIdentifierError, identifierProblem, type ItemKind } from '@alma-cache/cache-domain';

/**
 * Where each kind lives under `/almaws/v1/users/{user_id}/` and which key holds the array in Alma's list reply.
 * Alma leaves that key out altogether when the list is empty, rather than sending `[]`.
 *
 * @example
 * ALMA_RESOURCES.loan; // { pathSegment: 'loans', listKey: 'item_loan' }
 */
export const ALMA_RESOURCES = {
  loan: { pathSegment: 'loans', listKey: 'item_loan' },
  request: { pathSegment: 'requests', listKey: 'user_request' },
  fee: { pathSegment: 'fees', listKey: 'fee' },
} as const satisfies Record<ItemKind, { pathSegment: string; listKey: string }>;

/** The institution's users list (Alma's "Retrieve users"): `limit` 0 to 100, `offset`, `order_by`. */
export const ALMA_USERS_PATH = '/almaws/v1/users';

/** The largest page Alma serves (`limit` accepts 0 to 100). */
export const ALMA_MAX_PAGE_SIZE = 100;

/**
 * The path of a patron's list, or of one record when `recordId` is given. Each id must pass the identifier rule
 * (`identifierProblem`): an id that is a dot segment or holds a separator would move the request to another Alma
 * resource (`/users/{id}/loans/..` is the patron's personal record), so it is refused, never encoded around. Ids
 * that pass are still URL-encoded, as Alma primary ids may hold characters such as `@` or spaces.
 *
 * @example
 * almaUserPath('PAT 42', 'loan', '123'); // '/almaws/v1/users/PAT%2042/loans/123'
 * almaUserPath('PAT 42', 'loan', '..');  // throws AlmaInvalidIdentifierError: the recordId is a dot segment
 * @throws AlmaInvalidIdentifierError when an id fails the identifier rule
 */
export function almaUserPath(userPrimaryId: string, kind: ItemKind, recordId?: string): string {
  refuseBadIdentifier('userPrimaryId', userPrimaryId);
  const list = `/almaws/v1/users/${encodeURIComponent(userPrimaryId)}/${ALMA_RESOURCES[kind].pathSegment}`;
  if (recordId === undefined) return list;
  refuseBadIdentifier('recordId', recordId);
  return `${list}/${encodeURIComponent(recordId)}`;
}

function refuseBadIdentifier(field: 'userPrimaryId' | 'recordId', value: unknown): void {
  const problem = identifierProblem(value);
  if (problem !== undefined) throw new AlmaInvalidIdentifierError(field, problem);
}

import { userCacheKey } from '../shared/alma-event';
import { isIdentifier } from '../shared/identifier';

/**
 * The OAuth scopes the query API knows, as the identity provider issues them and the deploy's JWT authorizer
 * requires them per route.
 */
export const QUERY_SCOPES = {
  read: 'alma-cache/read',
  admin: 'alma-cache/admin',
  patron: 'alma-cache/patron',
} as const;

/**
 * A reader may read any patron; an admin may also queue refreshes; a patron may read only their own data (the
 * patron id their token names, see {@link patronIdOfClaims}) and never queue a refresh.
 */
export const QUERY_ROLES = ['reader', 'admin', 'patron'] as const;
export type QueryRole = (typeof QUERY_ROLES)[number];

/** What a route does, for the access rule. */
export const QUERY_ACTIONS = ['read', 'refresh'] as const;
export type QueryAction = (typeof QUERY_ACTIONS)[number];

/** Which roles may do what. An admin can do everything a reader can; a patron reads, and only their own data. */
export const ACTIONS_BY_ROLE = {
  reader: ['read'],
  admin: ['read', 'refresh'],
  patron: ['read'],
} as const satisfies Record<QueryRole, readonly QueryAction[]>;

/** The roles whose actions are limited to the patron their token names. */
const SELF_ONLY_ROLES: ReadonlySet<QueryRole> = new Set(['patron']);

/** The claim that names a patron token's patron when the stage configures none. */
export const DEFAULT_PATRON_ID_CLAIM = 'sub';

const SCOPE_OF_ROLE: Record<QueryRole, string> = { reader: QUERY_SCOPES.read, admin: QUERY_SCOPES.admin, patron: QUERY_SCOPES.patron };

/** The scopes that let a caller do `action`: any one of them suffices (what a route's authorizationScopes lists). */
export const scopesAllowing = (action: QueryAction): string[] =>
  QUERY_ROLES.filter((role) => (ACTIONS_BY_ROLE[role] as readonly QueryAction[]).includes(action)).map((role) => SCOPE_OF_ROLE[role]);

/**
 * The scopes of a verified token's claims. OAuth providers disagree on the claim: `scope` as one space-separated
 * string (RFC 8693, Cognito access tokens), or `scp` as a list or string (Okta, Entra ID). `extra` takes the list
 * API Gateway's JWT authorizer has already extracted (`requestContext.authorizer.jwt.scopes`).
 *
 * @example
 * scopesOfClaims({ sub: 'app', scope: 'alma-cache/read openid' }); // ['alma-cache/read', 'openid']
 */
export const scopesOfClaims = (claims: Readonly<Record<string, unknown>>, extra: readonly string[] = []): string[] => {
  const words = (value: unknown): string[] => {
    if (typeof value === 'string') return value.split(/\s+/);
    if (Array.isArray(value)) return value.flatMap(words);
    return [];
  };
  return [...new Set([...words(claims['scope']), ...words(claims['scp']), ...extra].filter((scope) => scope !== ''))];
};

/**
 * The roles granted by a set of scopes.
 *
 * @example
 * rolesOfScopes(['alma-cache/admin']); // ['admin']
 */
export const rolesOfScopes = (scopes: readonly string[]): QueryRole[] => QUERY_ROLES.filter((role) => scopes.includes(SCOPE_OF_ROLE[role]));

/**
 * What a stage narrows access to, from its configuration. `allowedClientIds`: when given (non-empty), only tokens
 * of these OAuth clients (see {@link clientIdOfClaims}) get in; absent or empty, any client. `patronIdClaim`: the
 * claim of a patron token that holds the patron's primary id (default {@link DEFAULT_PATRON_ID_CLAIM}).
 */
export interface QueryAccessPolicy {
  readonly allowedClientIds?: readonly string[];
  readonly patronIdClaim?: string;
}

/** The request as the access rule sees it: the patron id in its path (absent on a route without one). */
export interface QueryAccessRequest {
  readonly patronId?: string;
  readonly policy?: QueryAccessPolicy;
}

/**
 * `unauthenticated`: no verified token at all (401). The others are 403: `forbidden` (no scope allowing the
 * action), `client-not-allowed` (a client outside the stage's allow-list), `not-this-patron` (a patron token asking
 * for another patron's data, or naming no valid patron id).
 */
export type QueryAccessDenial = 'unauthenticated' | 'forbidden' | 'client-not-allowed' | 'not-this-patron';

export type QueryAccessDecision =
  | { readonly allowed: true; readonly roles: readonly QueryRole[] }
  | { readonly allowed: false; readonly reason: QueryAccessDenial; readonly roles: readonly QueryRole[] };

const stringClaim = (claims: Readonly<Record<string, unknown>>, name: string): string | undefined => {
  const value = claims[name];
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
};

/**
 * The OAuth client a token was issued to: `client_id` (Cognito, RFC 9068), else `azp` (OpenID Connect, Keycloak,
 * Entra ID v2). Undefined when the token names neither: such a token passes no allow-list.
 *
 * @example
 * clientIdOfClaims({ sub: 'u-1', client_id: 'library-app' }); // 'library-app'
 */
export const clientIdOfClaims = (claims: Readonly<Record<string, unknown>>): string | undefined =>
  stringClaim(claims, 'client_id') ?? stringClaim(claims, 'azp');

/**
 * Who called, for the log line: the token's `sub`, else its client id.
 *
 * @example
 * callerOfClaims({ sub: 'svc-discovery' }); // 'svc-discovery'
 */
export const callerOfClaims = (claims: Readonly<Record<string, unknown>>): string | undefined =>
  stringClaim(claims, 'sub') ?? clientIdOfClaims(claims);

/**
 * The patron a patron token speaks for: the configured claim (default `sub`), when it is a valid identifier.
 *
 * @example
 * patronIdOfClaims({ sub: 'PAT0042X' });                                   // 'PAT0042X'
 * patronIdOfClaims({ sub: 'u-1', primary_id: 'PAT0042X' }, 'primary_id'); // 'PAT0042X'
 */
export const patronIdOfClaims = (claims: Readonly<Record<string, unknown>>, claim: string = DEFAULT_PATRON_ID_CLAIM): string | undefined => {
  const value = claims[claim];
  return isIdentifier(value) ? value : undefined;
};

const mayDo = (role: QueryRole, action: QueryAction) => (ACTIONS_BY_ROLE[role] as readonly QueryAction[]).includes(action);

/**
 * The access rule of the query API: a pure function of the caller's verified claims (undefined when there is no
 * verified token), what they want to do, and on which patron. The deploy enforces the scopes in API Gateway
 * (authorizationScopes per route); the app checks everything again, so a route wired without its scopes still
 * cannot leak or queue anything, and only the app can check what API Gateway cannot: the client allow-list and a
 * patron token's patron.
 *
 * In order: no claims → `unauthenticated`; a client outside a non-empty allow-list → `client-not-allowed`; a role
 * allowing the action for any patron (reader, admin) → allowed; a patron role allowing it, and the patron id in the
 * path equal to the token's patron id as cache keys (case-insensitively) → allowed, otherwise `not-this-patron`;
 * else `forbidden`. A token holding both a reader and a patron scope is a reader.
 *
 * @example
 * decideQueryAccess({ scope: 'alma-cache/read' }, 'refresh'); // { allowed: false, reason: 'forbidden', roles: ['reader'] }
 * decideQueryAccess({ sub: 'PAT0042X', scope: 'alma-cache/patron' }, 'read', [], { patronId: 'pat0042x' }); // allowed
 */
export const decideQueryAccess = (
  claims: Readonly<Record<string, unknown>> | undefined,
  action: QueryAction,
  extraScopes: readonly string[] = [],
  request: QueryAccessRequest = {},
): QueryAccessDecision => {
  if (claims === undefined) return { allowed: false, reason: 'unauthenticated', roles: [] };
  const roles = rolesOfScopes(scopesOfClaims(claims, extraScopes));
  const allowList = request.policy?.allowedClientIds ?? [];
  if (allowList.length > 0) {
    const clientId = clientIdOfClaims(claims);
    if (clientId === undefined || !allowList.includes(clientId)) return { allowed: false, reason: 'client-not-allowed', roles };
  }
  if (roles.some((role) => !SELF_ONLY_ROLES.has(role) && mayDo(role, action))) return { allowed: true, roles };
  if (roles.some((role) => SELF_ONLY_ROLES.has(role) && mayDo(role, action))) {
    const own = patronIdOfClaims(claims, request.policy?.patronIdClaim ?? DEFAULT_PATRON_ID_CLAIM);
    const asked = request.patronId;
    const same = own !== undefined && asked !== undefined && userCacheKey(own) === userCacheKey(asked);
    return same ? { allowed: true, roles } : { allowed: false, reason: 'not-this-patron', roles };
  }
  return { allowed: false, reason: 'forbidden', roles };
};

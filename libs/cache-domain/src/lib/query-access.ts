/**
 * The OAuth scopes the query API knows, as the identity provider issues them and the deploy's JWT authorizer
 * requires them per route.
 */
export const QUERY_SCOPES = {
  read: 'alma-cache/read',
  admin: 'alma-cache/admin',
} as const;

/** A reader may read any patron; an admin may also queue refreshes. */
export const QUERY_ROLES = ['reader', 'admin'] as const;
export type QueryRole = (typeof QUERY_ROLES)[number];

/** What a route does, for the access rule. */
export const QUERY_ACTIONS = ['read', 'refresh'] as const;
export type QueryAction = (typeof QUERY_ACTIONS)[number];

/** Which roles may do what. An admin can do everything a reader can. */
export const ACTIONS_BY_ROLE = {
  reader: ['read'],
  admin: ['read', 'refresh'],
} as const satisfies Record<QueryRole, readonly QueryAction[]>;

const SCOPE_OF_ROLE: Record<QueryRole, string> = { reader: QUERY_SCOPES.read, admin: QUERY_SCOPES.admin };

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
export const rolesOfScopes = (scopes: readonly string[]): QueryRole[] =>
  QUERY_ROLES.filter((role) => scopes.includes(SCOPE_OF_ROLE[role]));

/** `unauthenticated`: no verified token at all (401). `forbidden`: a token without a role allowing the action (403). */
export type QueryAccessDecision =
  | { readonly allowed: true; readonly roles: readonly QueryRole[] }
  | { readonly allowed: false; readonly reason: 'unauthenticated' | 'forbidden'; readonly roles: readonly QueryRole[] };

/**
 * The access rule of the query API: a pure function of the caller's verified claims (undefined when there is no
 * verified token) and what they want to do. The deploy enforces the same rule in API Gateway (authorizationScopes
 * per route); the app checks again, so a route wired without its scopes still cannot leak or queue anything.
 *
 * @example
 * decideQueryAccess({ scope: 'alma-cache/read' }, 'refresh'); // { allowed: false, reason: 'forbidden', roles: ['reader'] }
 */
export const decideQueryAccess = (
  claims: Readonly<Record<string, unknown>> | undefined,
  action: QueryAction,
  extraScopes: readonly string[] = [],
): QueryAccessDecision => {
  if (claims === undefined) return { allowed: false, reason: 'unauthenticated', roles: [] };
  const roles = rolesOfScopes(scopesOfClaims(claims, extraScopes));
  const allowed = roles.some((role) => (ACTIONS_BY_ROLE[role] as readonly QueryAction[]).includes(action));
  return allowed ? { allowed, roles } : { allowed, reason: 'forbidden', roles };
};

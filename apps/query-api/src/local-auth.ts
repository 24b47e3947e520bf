// LOCAL ONLY. Stands in for API Gateway's JWT authorizer when the routes are served on loopback (tests and the local
// stack). The deployed function never imports this file: in AWS, API Gateway verifies the identity provider's
// tokens before the function runs, and the function only reads the claims it was handed.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { isJsonObject, QUERY_SCOPES, type QueryRole } from '@alma-cache/cache-domain';

/** Claims as API Gateway's JWT authorizer hands them to the function. */
export type LocalTokenClaims = Record<string, string | number | boolean | string[]>;

/** The `iss` and `aud` of local tokens; a token naming anything else is refused. */
export const LOCAL_TOKEN_ISSUER = 'alma-cache-local';
export const LOCAL_TOKEN_AUDIENCE = 'alma-cache-query-api';

/** The scope each role's token carries; `none` is a valid token without any of the API's scopes (for 403s). */
const SCOPE_OF: Record<QueryRole | 'none', string> = {
  reader: QUERY_SCOPES.read,
  admin: QUERY_SCOPES.admin,
  patron: QUERY_SCOPES.patron,
  none: 'openid',
};

/** The `client_id` of local tokens unless one is given: the one client a local allow-list would name. */
export const LOCAL_CLIENT_ID = 'alma-cache-local-client';

/**
 * This process's signing key: random, so a local token is worthless anywhere else and after a restart. Pass your
 * own `secret` to both functions to share tokens between processes.
 */
const PROCESS_SECRET = randomBytes(32);

export interface LocalTokenOptions {
  readonly secret?: Buffer | string;
  /** `sub`; default `local-<role>`. A patron token's patron id, unless `claims` names it in another claim. */
  readonly subject?: string;
  /** `client_id`; default {@link LOCAL_CLIENT_ID}. */
  readonly clientId?: string;
  /** Further claims (e.g. the claim `QUERY_PATRON_ID_CLAIM` names); they cannot replace the registered ones. */
  readonly claims?: Readonly<Record<string, string | number | boolean | string[]>>;
  /** Default 3600. Negative for an already expired token. */
  readonly expiresInSeconds?: number;
  /** For tests of the verifier. */
  readonly issuer?: string;
  readonly audience?: string;
}

const base64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');
const sign = (input: string, secret: Buffer | string) => createHmac('sha256', secret).update(input).digest();

/**
 * A signed HS256 JWT for the local server, carrying the role's scope as `scope` like an OAuth access token, and
 * `client_id`. A `patron` token reads only the patron its `subject` names. LOCAL ONLY: the deployed API accepts only
 * the identity provider's tokens.
 *
 * @example
 * const token = mintLocalToken('admin');
 * const mine = mintLocalToken('patron', { subject: 'PAT0042X' }); // GET /users/PAT0042X/loans: 200; /users/PAT0043Y: 403
 * await fetch(`${server.url}/users/PAT0042X/refresh`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
 */
export const mintLocalToken = (role: QueryRole | 'none', options: LocalTokenOptions = {}): string => {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = base64url(
    JSON.stringify({
      ...options.claims,
      client_id: options.clientId ?? LOCAL_CLIENT_ID,
      iss: options.issuer ?? LOCAL_TOKEN_ISSUER,
      aud: options.audience ?? LOCAL_TOKEN_AUDIENCE,
      sub: options.subject ?? `local-${role}`,
      scope: SCOPE_OF[role],
      iat: now,
      exp: now + (options.expiresInSeconds ?? 3600),
    }),
  );
  return `${header}.${payload}.${base64url(sign(`${header}.${payload}`, options.secret ?? PROCESS_SECRET))}`;
};

const decodeJson = (part: string): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return isJsonObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
};

/**
 * The `authorize` callback for `startHttpApiServer`: the claims of a valid local token in `Authorization: Bearer …`,
 * or undefined (the server then answers 401 as API Gateway would). Checks what API Gateway's JWT authorizer checks:
 * the signature (HS256 only: `alg` is never taken from the token), `iss`, `aud`, `exp` and `nbf`.
 * LOCAL ONLY.
 *
 * @example
 * const server = await startHttpApiServer({ routes, authorize: verifyLocalToken });
 */
export const verifyLocalToken = (
  event: Pick<APIGatewayProxyEventV2, 'headers'>,
  options: Pick<LocalTokenOptions, 'secret'> = {},
): LocalTokenClaims | undefined => {
  const match = /^Bearer\s+([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(event.headers?.['authorization']?.trim() ?? '');
  if (match === null) return undefined;
  const [, header, payload, signature] = match;
  const expected = sign(`${header}.${payload}`, options.secret ?? PROCESS_SECRET);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  if (decodeJson(header)?.['alg'] !== 'HS256') return undefined;
  const claims = decodeJson(payload);
  if (claims === undefined) return undefined;
  const now = Math.floor(Date.now() / 1000);
  const audiences = Array.isArray(claims['aud']) ? claims['aud'] : [claims['aud']];
  if (claims['iss'] !== LOCAL_TOKEN_ISSUER || !audiences.includes(LOCAL_TOKEN_AUDIENCE)) return undefined;
  if (typeof claims['exp'] !== 'number' || claims['exp'] <= now) return undefined;
  if (typeof claims['nbf'] === 'number' && claims['nbf'] > now) return undefined;
  return claims as LocalTokenClaims;
};

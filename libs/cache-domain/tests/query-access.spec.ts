import { QUERY_SCOPES, decideQueryAccess, rolesOfScopes, scopesAllowing, scopesOfClaims } from '../src';

describe('Function: decideQueryAccess', () => {
  it.each([
    ['no verified token', undefined, 'read', { allowed: false, reason: 'unauthenticated', roles: [] }],
    ['no verified token', undefined, 'refresh', { allowed: false, reason: 'unauthenticated', roles: [] }],
    ['a token without our scopes', { sub: 'x', scope: 'openid profile' }, 'read', { allowed: false, reason: 'forbidden', roles: [] }],
    ['a reader', { scope: 'alma-cache/read' }, 'read', { allowed: true, roles: ['reader'] }],
    ['a reader', { scope: 'alma-cache/read' }, 'refresh', { allowed: false, reason: 'forbidden', roles: ['reader'] }],
    ['an admin', { scope: 'alma-cache/admin' }, 'read', { allowed: true, roles: ['admin'] }],
    ['an admin', { scope: 'openid alma-cache/admin' }, 'refresh', { allowed: true, roles: ['admin'] }],
    ['an admin by scp list', { scp: ['alma-cache/admin'] }, 'refresh', { allowed: true, roles: ['admin'] }],
    ['a scope that only looks like ours', { scope: 'alma-cache/admins alma-cache/read-only' }, 'read', { allowed: false, reason: 'forbidden', roles: [] }],
  ] as const)('%s may %s: %j', (_who, claims, action, decision) => {
    // Act
    const decided = decideQueryAccess(claims, action);

    // Assess
    expect(decided).toEqual(decision);
  });

  it("takes the scopes API Gateway's JWT authorizer extracted", () => {
    // Act
    const decided = decideQueryAccess({ sub: 'client' }, 'refresh', ['alma-cache/admin']);

    // Assess
    expect(decided).toEqual({ allowed: true, roles: ['admin'] });
  });
});

describe('Function: scopesOfClaims', () => {
  it('reads a space-separated scope, an scp list or string, and drops duplicates and blanks', () => {
    // Act
    const scopes = scopesOfClaims({ scope: ' a  b ', scp: ['b', 'c d'] }, ['e', 'a']);

    // Assess
    expect(scopes).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('ignores claims of other types', () => {
    // Act
    const scopes = scopesOfClaims({ scope: 42, scp: { read: true } });

    // Assess
    expect(scopes).toEqual([]);
  });
});

describe('Function: scopesAllowing', () => {
  it('lists every scope whose role may do the action: what a route requires in API Gateway', () => {
    // Assess
    expect(scopesAllowing('read')).toEqual([QUERY_SCOPES.read, QUERY_SCOPES.admin]);
    expect(scopesAllowing('refresh')).toEqual([QUERY_SCOPES.admin]);
    expect(rolesOfScopes([QUERY_SCOPES.read, QUERY_SCOPES.admin])).toEqual(['reader', 'admin']);
  });
});

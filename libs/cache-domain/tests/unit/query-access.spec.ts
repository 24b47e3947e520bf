import { QUERY_SCOPES, callerOfClaims, clientIdOfClaims, decideQueryAccess, scopesAllowing } from '../../src';
import { patronIdOfClaims, rolesOfScopes, scopesOfClaims } from '../../src/lib/query/query-access';

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
    [
      'a scope that only looks like ours',
      { scope: 'alma-cache/admins alma-cache/read-only' },
      'read',
      { allowed: false, reason: 'forbidden', roles: [] },
    ],
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
    expect(scopesAllowing('read')).toEqual([QUERY_SCOPES.read, QUERY_SCOPES.admin, QUERY_SCOPES.patron]);
    expect(scopesAllowing('refresh')).toEqual([QUERY_SCOPES.admin]);
    expect(rolesOfScopes([QUERY_SCOPES.read, QUERY_SCOPES.admin, QUERY_SCOPES.patron])).toEqual(['reader', 'admin', 'patron']);
  });
});

describe('Function: decideQueryAccess (patron tokens)', () => {
  const patron = (sub: unknown, extra: Record<string, unknown> = {}) => ({ sub, scope: QUERY_SCOPES.patron, ...extra });

  it.each([
    ['its own patron', patron('PAT0042X'), 'PAT0042X'],
    ['its own patron, in another case', patron('PAT0042X'), 'pat0042x'],
  ])('lets a patron token read %s', (_case, claims, patronId) => {
    // Act
    const decided = decideQueryAccess(claims, 'read', [], { patronId });

    // Assess
    expect(decided).toEqual({ allowed: true, roles: ['patron'] });
  });

  it.each([
    ['another patron', patron('PAT0042X'), 'PAT0043Y'],
    ['a patron id that only starts like its own', patron('PAT0042X'), 'PAT0042X2'],
    ['a route without a patron id', patron('PAT0042X'), undefined],
    ['with a subject that is no identifier', patron('..'), '..'],
    ['with a subject that is not a string', patron(42), '42'],
    ['with no subject at all', { scope: QUERY_SCOPES.patron }, 'PAT0042X'],
    ['with blanks around its claim (no canonical id, never trimmed)', patron(' pat0042x '), 'PAT0042X'],
    ['with a no-break space after its claim', patron('PAT0042X\u00a0'), 'PAT0042X'],
    ['with a KELVIN SIGN claim for a patron with a k', patron('\u212aPAT7'), 'KPAT7'],
    ['with a fullwidth claim', patron('\uff30AT0042X'), 'PAT0042X'],
    ['with a claim holding U+FFFF', patron('PAT0042X\uffff'), 'PAT0042X'],
  ])('refuses a patron token %s (not-this-patron)', (_case, claims, patronId) => {
    // Act
    const decided = decideQueryAccess(claims, 'read', [], { patronId });

    // Assess
    expect(decided).toEqual({ allowed: false, reason: 'not-this-patron', roles: ['patron'] });
  });

  it('never lets a patron token queue a refresh, not even its own', () => {
    // Act
    const decided = decideQueryAccess(patron('PAT0042X'), 'refresh', [], { patronId: 'PAT0042X' });

    // Assess
    expect(decided).toEqual({ allowed: false, reason: 'forbidden', roles: ['patron'] });
  });

  it('reads the patron id from the configured claim, and then not from sub', () => {
    // Prepare
    const claims = patron('cognito-user-uuid', { primary_id: 'PAT0042X' });
    const policy = { patronIdClaim: 'primary_id' };

    // Act
    const [own, bySub] = [
      decideQueryAccess(claims, 'read', [], { patronId: 'PAT0042X', policy }),
      decideQueryAccess(claims, 'read', [], { patronId: 'cognito-user-uuid', policy }),
    ];

    // Assess
    expect(own.allowed).toBe(true);
    expect(bySub).toMatchObject({ allowed: false, reason: 'not-this-patron' });
  });

  it('treats a token holding the reader and the patron scope as a reader', () => {
    // Act
    const decided = decideQueryAccess(patron('PAT0042X', { scope: `${QUERY_SCOPES.patron} ${QUERY_SCOPES.read}` }), 'read', [], {
      patronId: 'PAT0043Y',
    });

    // Assess
    expect(decided).toEqual({ allowed: true, roles: ['reader', 'patron'] });
  });
});

describe('Function: decideQueryAccess (client allow-list)', () => {
  const policy = { allowedClientIds: ['library-app', 'patron-app'] };

  it.each([
    ['client_id', { client_id: 'library-app', scope: QUERY_SCOPES.read }],
    ['azp', { azp: 'patron-app', scope: QUERY_SCOPES.read }],
  ])('lets in a client on the list, named by %s', (_claim, claims) => {
    // Act
    const decided = decideQueryAccess(claims, 'read', [], { patronId: 'PAT0042X', policy });

    // Assess
    expect(decided.allowed).toBe(true);
  });

  it.each([
    ['another client', { client_id: 'intruder', scope: QUERY_SCOPES.admin }],
    ['a token naming no client', { sub: 'library-app', scope: QUERY_SCOPES.admin }],
    ['a client whose id only differs in case', { client_id: 'LIBRARY-APP', scope: QUERY_SCOPES.admin }],
  ])('refuses %s, whatever its scopes (client-not-allowed)', (_case, claims) => {
    // Act
    const decided = decideQueryAccess(claims, 'refresh', [], { patronId: 'PAT0042X', policy });

    // Assess
    expect(decided).toEqual({ allowed: false, reason: 'client-not-allowed', roles: ['admin'] });
  });

  it('lets any client in when the list is empty', () => {
    // Act
    const decided = decideQueryAccess({ client_id: 'anyone', scope: QUERY_SCOPES.read }, 'read', [], { policy: { allowedClientIds: [] } });

    // Assess
    expect(decided.allowed).toBe(true);
  });
});

describe('Function: callerOfClaims, clientIdOfClaims, patronIdOfClaims', () => {
  it('names the caller by sub, else by client id; the client by client_id, else azp', () => {
    // Assess
    expect(callerOfClaims({ sub: 'u-1', client_id: 'app' })).toBe('u-1');
    expect(callerOfClaims({ client_id: 'app' })).toBe('app');
    expect(callerOfClaims({ sub: ' ' })).toBeUndefined();
    expect(clientIdOfClaims({ client_id: 'app', azp: 'other' })).toBe('app');
    expect(clientIdOfClaims({ azp: 'other' })).toBe('other');
    expect(clientIdOfClaims({ sub: 'u-1' })).toBeUndefined();
  });

  it('takes a patron id only when it passes the identifier rule', () => {
    // Assess
    expect(patronIdOfClaims({ sub: 'PAT0042X' })).toBe('PAT0042X');
    expect(patronIdOfClaims({ sub: 'a/b' })).toBeUndefined();
    expect(patronIdOfClaims({ sub: ['PAT0042X'] })).toBeUndefined();
  });
});

import { createHmac } from 'node:crypto';
import { LOCAL_CLIENT_ID, LOCAL_TOKEN_AUDIENCE, LOCAL_TOKEN_ISSUER, mintLocalToken, verifyLocalToken } from '../../src/local-auth';

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

describe('Function: verifyLocalToken', () => {
  it.each([
    ['reader', 'alma-cache/read'],
    ['admin', 'alma-cache/admin'],
    ['patron', 'alma-cache/patron'],
    ['none', 'openid'],
  ] as const)('accepts a %s token minted here and hands back its claims', (role, scope) => {
    // Prepare
    const token = mintLocalToken(role, { subject: 'tester' });

    // Act
    const claims = verifyLocalToken(bearer(token));

    // Assess
    expect(claims).toMatchObject({ iss: LOCAL_TOKEN_ISSUER, aud: LOCAL_TOKEN_AUDIENCE, sub: 'tester', scope, client_id: LOCAL_CLIENT_ID });
  });

  it('shares tokens between processes that use the same secret, and only those', () => {
    // Prepare
    const token = mintLocalToken('admin', { secret: 'shared' });

    // Act
    const [withSecret, withoutSecret] = [verifyLocalToken(bearer(token), { secret: 'shared' }), verifyLocalToken(bearer(token))];

    // Assess
    expect(withSecret?.['scope']).toBe('alma-cache/admin');
    expect(withoutSecret).toBeUndefined();
  });

  it.each([
    ['no header', { headers: {} }],
    ['not a bearer token', { headers: { authorization: 'Basic dXNlcjpwYXNz' } }],
    ['an expired token', bearer(mintLocalToken('admin', { expiresInSeconds: -1 }))],
    ['another issuer', bearer(mintLocalToken('admin', { issuer: 'https://elsewhere' }))],
    ['another audience', bearer(mintLocalToken('admin', { audience: 'another-api' }))],
    [
      'a tampered payload',
      bearer(mintLocalToken('reader').replace(/\.[^.]+\./, `.${Buffer.from('{"scope":"alma-cache/admin"}').toString('base64url')}.`)),
    ],
  ])('refuses %s', (_case, event) => {
    // Act
    const claims = verifyLocalToken(event);

    // Assess
    expect(claims).toBeUndefined();
  });

  it('refuses a token whose header names another algorithm, even with a valid signature', () => {
    // Prepare: "none"-style downgrade, signed with the right key so only the alg check can catch it
    const header = Buffer.from(JSON.stringify({ alg: 'HS512', typ: 'JWT' })).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const payload = Buffer.from(
      JSON.stringify({ iss: LOCAL_TOKEN_ISSUER, aud: LOCAL_TOKEN_AUDIENCE, scope: 'alma-cache/admin', exp: now + 60 }),
    ).toString('base64url');
    const signature = createHmac('sha256', 'k').update(`${header}.${payload}`).digest('base64url');

    // Act
    const claims = verifyLocalToken(bearer(`${header}.${payload}.${signature}`), { secret: 'k' });

    // Assess
    expect(claims).toBeUndefined();
  });
});

describe('Function: mintLocalToken', () => {
  it('mints a patron token for the patron given, with another client id and extra claims, whose registered claims stay its own', () => {
    // Prepare
    const token = mintLocalToken('patron', { subject: 'u-1', clientId: 'patron-app', claims: { primary_id: 'PAT0042X', iss: 'elsewhere' } });

    // Act
    const claims = verifyLocalToken(bearer(token));

    // Assess
    expect(claims).toMatchObject({
      sub: 'u-1',
      client_id: 'patron-app',
      primary_id: 'PAT0042X',
      scope: 'alma-cache/patron',
      iss: LOCAL_TOKEN_ISSUER,
    });
  });
});

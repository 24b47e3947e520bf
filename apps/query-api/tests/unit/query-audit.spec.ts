import { createHmac } from 'node:crypto';
import { callerForLog, callerInClear, patronLogHash, redactedError, redactIds } from '../../src/query-audit';

describe('Function: patronLogHash', () => {
  it('is HMAC-SHA256 of the id as a cache key (ASCII letters lower-cased, nothing trimmed), keyed with the pepper, in hex', () => {
    // Act
    const hashes = ['PAT0042X', 'pat0042x', 'Pat0042X'].map((id) => patronLogHash('pepper-stg', id));
    const lookalikes = [' Pat0042X ', 'PAT0042X\u00a0', '\ufeffPAT0042X'].map((id) => patronLogHash('pepper-stg', id));

    // Assess
    const expected = createHmac('sha256', 'pepper-stg').update('pat0042x').digest('hex');
    expect(hashes).toEqual([expected, expected, expected]);
    expect(expected).toMatch(/^[0-9a-f]{64}$/);
    // Another id to Alma, so another patron in the log (and refused before any read anyway).
    expect(lookalikes.filter((hash) => hash === expected)).toEqual([]);
    expect(patronLogHash('pepper-stg', '\u212aPAT7')).not.toBe(patronLogHash('pepper-stg', 'KPAT7'));
  });

  it('differs between stages (peppers) and between patrons', () => {
    // Act
    const [stg, prod, other] = [
      patronLogHash('pepper-stg', 'PAT0042X'),
      patronLogHash('pepper-prod', 'PAT0042X'),
      patronLogHash('pepper-stg', 'PAT0043Y'),
    ];

    // Assess
    expect(new Set([stg, prod, other]).size).toBe(3);
  });
});

describe('Function: callerForLog', () => {
  it("keeps a reader's and an admin's sub, else client id, in clear", () => {
    // Act
    const callers = [
      callerForLog({ sub: 'svc-discovery', client_id: 'library-app' }, ['reader'], 'pepper-stg'),
      callerForLog({ client_id: 'library-app' }, ['admin'], 'pepper-stg'),
      callerForLog({ sub: 'staff-1' }, ['reader', 'patron'], undefined),
    ];

    // Assess
    expect(callers).toEqual(['svc-discovery', 'library-app', 'staff-1']);
    expect([callerInClear(['reader']), callerInClear(['admin']), callerInClear(['patron']), callerInClear([])]).toEqual([true, true, false, false]);
  });

  it("logs a patron token's caller, and a token with no known role, as the patron hash of its sub", () => {
    // Act
    const [patron, roleless, withoutPepper] = [
      callerForLog({ sub: 'PAT0042X', client_id: 'patron-app' }, ['patron'], 'pepper-stg'),
      callerForLog({ sub: 'pat0042x' }, [], 'pepper-stg'),
      callerForLog({ sub: 'PAT0042X' }, ['patron'], undefined),
    ];

    // Assess
    expect(patron).toBe(patronLogHash('pepper-stg', 'PAT0042X'));
    expect(roleless).toBe(patron);
    expect(withoutPepper).toBeUndefined();
    expect(callerForLog({ scope: 'alma-cache/patron' }, ['patron'], 'pepper-stg')).toBeUndefined();
  });
});

describe('Function: redactIds', () => {
  it('replaces each id as given and URL-encoded, case-insensitively, longest first', () => {
    // Act
    const text = redactIds('no patron "PAT 42" (GET /users/PAT%2042/loans/pat 42-1), loan "pat 42-1"', ['pat 42', 'PAT 42-1']);

    // Assess
    expect(text).toBe('no patron "[id]" (GET /users/[id]/loans/[id]), loan "[id]"');
  });

  it('leaves the text alone without ids, and treats regular-expression characters literally', () => {
    // Assess
    expect(redactIds('a.b and axb', [undefined, ' ', 'a.b'])).toBe('[id] and axb');
  });
});

describe('Function: redactedError', () => {
  it('keeps the name, redacts message, stack and causes, and leaves the original alone', () => {
    // Prepare
    const original = new TypeError('patron PAT0042X failed', { cause: new Error('GET /almaws/v1/users/PAT0042X/loans: 401') });

    // Act
    const copy = redactedError(original, ['PAT0042X']);

    // Assess
    expect(copy.name).toBe('TypeError');
    expect(copy.message).toBe('patron [id] failed');
    expect(copy.stack).not.toContain('PAT0042X');
    expect((copy.cause as Error).message).toBe('GET /almaws/v1/users/[id]/loans: 401');
    expect(original.message).toBe('patron PAT0042X failed');
  });
});

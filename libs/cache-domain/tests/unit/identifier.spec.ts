import { MAX_IDENTIFIER_LENGTH, identifierProblem, isIdentifier } from '../../src';

describe('Function: identifierProblem', () => {
  it.each([
    ['a patron primary id', 'PAT0042X'],
    ['a record id', '7391500230004561'],
    ['an e-mail style primary id', 'ann.lee@example.edu'],
    ['an id with an inner space', 'PAT 42'],
    ['an id with dots inside', 'a..b'],
    ['an id with three dots', '...'],
    ['an id of the longest length', 'x'.repeat(MAX_IDENTIFIER_LENGTH)],
    ['a paired surrogate (an emoji)', 'pat\u{1F600}'],
  ])('accepts %s', (_what, value) => {
    // Act
    const problem = identifierProblem(value);

    // Assess
    expect(problem).toBeUndefined();
    expect(isIdentifier(value)).toBe(true);
  });

  it.each([
    ['not a string', 42, 'is missing or not a string'],
    ['undefined', undefined, 'is missing or not a string'],
    ['empty', '', 'is empty'],
    ['blank', '   ', 'is empty'],
    ['too long', 'x'.repeat(MAX_IDENTIFIER_LENGTH + 1), `is longer than ${MAX_IDENTIFIER_LENGTH} characters`],
    ['a NUL', 'a\u0000b', 'holds control characters'],
    ['a newline', 'a\nb', 'holds control characters'],
    ['a C1 control', 'a\u0085b', 'holds control characters'],
    ['a lone high surrogate', 'a\ud800', 'holds an unpaired surrogate (not valid UTF-16 text)'],
    ['a lone low surrogate', '\udc00a', 'holds an unpaired surrogate (not valid UTF-16 text)'],
    ['a dot', '.', 'is a dot segment ("." or "..")'],
    ['two dots', '..', 'is a dot segment ("." or "..")'],
    ['two dots padded', ' .. ', 'is a dot segment ("." or "..")'],
    ['encoded dots', '%2E%2e', 'is a dot segment ("." or "..")'],
    ['a half-encoded dot segment', '.%2E', 'is a dot segment ("." or "..")'],
    ['a slash', 'a/b', 'holds a path separator ("/" or "\\")'],
    ['a backslash', 'a\\b', 'holds a path separator ("/" or "\\")'],
    ['a traversal', '../users', 'holds a path separator ("/" or "\\")'],
    ['an encoded slash', 'a%2Fb', 'holds a percent-encoded path separator (%2F or %5C)'],
    ['an encoded backslash', 'a%5cb', 'holds a percent-encoded path separator (%2F or %5C)'],
  ])('refuses %s', (_what, value, reason) => {
    // Act
    const problem = identifierProblem(value);

    // Assess
    expect(problem).toBe(reason);
    expect(isIdentifier(value)).toBe(false);
  });
});

import { MAX_IDENTIFIER_LENGTH, identifierProblem, isIdentifier, userCacheKey } from '../../src';

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
    ['an e-mail style id with a plus and an underscore', 'ann_lee+lib@example.edu'],
    ['accented letters (precomposed, NFC)', 'Émile.Müller@example.fr'],
    ['a sharp s (upper-cases to "SS", two letters)', 'straße42'],
    ['CJK letters', '中文学生0042'],
    ['Cyrillic and Greek capitals', 'ИВАН-ΑΒΓ'],
    ['Hangul', '김철수'],
    ['a zero-width joiner inside (not at an end)', 'a\u200db'],
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
    ['two dots padded', ' .. ', 'starts or ends with whitespace or an invisible character'],
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

describe('Function: identifierProblem, look-alike ids (one canonical identity)', () => {
  const BLANK = 'starts or ends with whitespace or an invisible character';
  const NONCHARACTER = 'holds a Unicode noncharacter (such as U+FFFE or U+FFFF)';
  const FOLDS = 'holds a character whose upper or lower case is an ASCII letter (such as U+212A KELVIN SIGN)';
  const NFKC = 'is not in Unicode NFKC form (a compatibility or decomposed character)';

  it.each([
    ['an ASCII space at the end', 'PAT0042X ', BLANK],
    ['an ASCII space at the start', ' PAT0042X', BLANK],
    ['U+00A0 NO-BREAK SPACE at the end', 'PAT0042X\u00a0', BLANK],
    ['U+00A0 NO-BREAK SPACE at the start', '\u00a0PAT0042X', BLANK],
    ['U+2003 EM SPACE at the end', 'PAT0042X\u2003', BLANK],
    ['U+2003 EM SPACE at the start', '\u2003PAT0042X', BLANK],
    ['U+3000 IDEOGRAPHIC SPACE at the end', 'PAT0042X\u3000', BLANK],
    ['U+3000 IDEOGRAPHIC SPACE at the start', '\u3000PAT0042X', BLANK],
    ['U+FEFF BYTE ORDER MARK at the end', 'PAT0042X\ufeff', BLANK],
    ['U+FEFF BYTE ORDER MARK at the start', '\ufeffPAT0042X', BLANK],
    ['U+200B ZERO WIDTH SPACE at the end', 'PAT0042X\u200b', BLANK],
    ['U+2060 WORD JOINER at the start', '\u2060PAT0042X', BLANK],
    ['U+00AD SOFT HYPHEN at the end', 'PAT0042X\u00ad', BLANK],
    ['only a zero width space', '\u200b', BLANK],
    ['U+FFFE', 'PAT\ufffe0042X', NONCHARACTER],
    ['U+FFFF', 'PAT0042X\uffff', NONCHARACTER],
    ['U+FDD0', 'PAT\ufdd0', NONCHARACTER],
    ['U+1FFFF (a supplementary-plane noncharacter)', 'PAT\u{1FFFF}', NONCHARACTER],
    ['U+212A KELVIN SIGN (lower-cases to k)', '\u212aPAT7', FOLDS],
    ['U+0130 capital I with dot (lower-cases to i + U+0307)', 'PAT\u0130D', FOLDS],
    ['U+0131 dotless i (upper-cases to I)', 'PAT\u0131D', FOLDS],
    ['U+017F long s (upper-cases to S)', '\u017fPAT', FOLDS],
    ['fullwidth letters', '\uff30\uff21\uff34\uff10\uff10\uff14\uff12\uff38', NFKC],
    ['fullwidth digits inside', 'PAT\uff10\uff1042X', NFKC],
    ['a ligature', 'PAT\ufb01', NFKC],
    ['a superscript digit', 'PAT\u00b2', NFKC],
    ['U+2126 OHM SIGN (a singleton decomposition)', 'PAT\u2126', NFKC],
    ['a decomposed accent (e + U+0301)', 'Emile\u0301', NFKC],
    ['a no-break space inside (NFKC makes it a space)', 'PAT\u00a00042X', NFKC],
  ])('refuses %s', (_what, value, reason) => {
    // Act
    const problem = identifierProblem(value);

    // Assess
    expect(problem).toBe(reason);
    expect(isIdentifier(value)).toBe(false);
  });

  it('never echoes the refused value in its reason', () => {
    // Arrange
    const probes = ['PAT0042X\u00a0', '\u212aPAT7', 'PAT\uffff', '\uff30AT'];

    // Act
    const reasons = probes.map((probe) => identifierProblem(probe) ?? '');

    // Assess
    expect(reasons.every((reason) => reason !== '' && !reason.includes('PAT'))).toBe(true);
  });
});

describe('Function: userCacheKey', () => {
  it.each([
    ['PAT0042X', 'pat0042x'],
    ['Ann.Lee+Lib@Example.EDU', 'ann.lee+lib@example.edu'],
    ['ÉMILE', 'Émile'],
    ['STRAßE', 'straße'],
    ['ИВАН', 'ИВАН'],
  ])('lower-cases only the ASCII letters of %j', (id, key) => {
    // Act / Assess
    expect(userCacheKey(id)).toBe(key);
  });

  it('keys two accepted ids alike only when they differ in ASCII case alone (what Alma ignores)', () => {
    // Arrange: pairs whose full Unicode lower-casing or trimming would have merged them
    const pairs = [
      ['KPAT7', '\u212aPAT7'],
      ['PAT0042X', 'PAT0042X\u00a0'],
      ['ÉMILE', 'émile'],
      ['PATID', 'PAT\u0130D'],
    ];

    // Act
    const merged = pairs.filter(([a, b]) => isIdentifier(a) && isIdentifier(b) && userCacheKey(a) === userCacheKey(b));

    // Assess
    expect(merged).toEqual([]);
    expect(userCacheKey('pAt0042x')).toBe(userCacheKey('PAT0042X'));
  });
});

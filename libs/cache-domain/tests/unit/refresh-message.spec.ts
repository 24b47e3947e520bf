import { MAX_IDENTIFIER_LENGTH, parseItemRefreshMessage, parseUserRefreshMessage } from '../../src';
import { MalformedRefreshMessageError } from '../../src/lib/errors';

describe('Function: parseUserRefreshMessage', () => {
  it.each([
    ['PAT0042X', 'PAT0042X'],
    ['"PAT0042X"', 'PAT0042X'],
    ['Émile.Müller@example.fr', 'Émile.Müller@example.fr'],
  ])('reads the patron id from %j', (body, expected) => {
    // Act / Assess
    expect(parseUserRefreshMessage(body)).toBe(expected);
  });

  it.each([
    ['', /patron id is empty/],
    ['   ', /patron id is empty/],
    ['  PAT0042X\n', /patron id holds control characters/],
    [' PAT0042X', /patron id starts or ends with whitespace or an invisible character/],
    ['PAT0042X\u00a0', /patron id starts or ends with whitespace or an invisible character/],
    ['"\u2003PAT0042X"', /patron id starts or ends with whitespace or an invisible character/],
    ['PAT0042X\u3000', /patron id starts or ends with whitespace or an invisible character/],
    ['\ufeffPAT0042X', /patron id starts or ends with whitespace or an invisible character/],
    ['\u212aPAT7', /patron id holds a character whose upper or lower case is an ASCII letter/],
    ['\uff30AT0042X', /patron id is not in Unicode NFKC form/],
    ['PAT0042X\uffff', /patron id holds a Unicode noncharacter/],
    ['..', /patron id is a dot segment/],
    ['PAT%2F1', /patron id holds a percent-encoded path separator/],
    ['"PAT', /not a JSON string/],
    ['{"userID":"PAT0042X"}', /bare patron id/],
    ['x'.repeat(MAX_IDENTIFIER_LENGTH + 1), /longer than 255/],
  ])('rejects %j with a specific reason', (body, reason) => {
    // Act / Assess
    expect(() => parseUserRefreshMessage(body)).toThrow(MalformedRefreshMessageError);
    expect(() => parseUserRefreshMessage(body)).toThrow(reason);
  });
});

describe('Function: parseItemRefreshMessage', () => {
  it('reads the patron and the record of each kind', () => {
    // Act / Assess
    expect(parseItemRefreshMessage('{"userID":"PAT0042X","loanID":"l1"}', 'loan')).toEqual({ userPrimaryId: 'PAT0042X', kind: 'loan', itemId: 'l1' });
    expect(parseItemRefreshMessage('{"userID":"PAT0042X","requestID":"r1"}', 'request').itemId).toBe('r1');
    expect(parseItemRefreshMessage('{"userID":"PAT0042X","feeID":"f1"}', 'fee').itemId).toBe('f1');
  });

  it.each([
    ['not json', 'loan', /not JSON/],
    ['[1]', 'loan', /not an object/],
    ['{"loanID":"l1"}', 'loan', /"userID" is missing/],
    ['{"userID":"P","loanID":""}', 'loan', /"loanID" is empty/],
    ['{"userID":".","loanID":"l1"}', 'loan', /"userID" is a dot segment/],
    ['{"userID":"P","requestID":"r/../1"}', 'request', /"requestID" holds a path separator/],
    [`{"userID":"P","feeID":"${'f'.repeat(MAX_IDENTIFIER_LENGTH + 1)}"}`, 'fee', /"feeID" is longer than 255 characters/],
    ['{"userID":"P","loanID":"l1"}', 'fee', /"feeID" is missing/],
    ['{"userID":7,"feeID":"f1"}', 'fee', /"userID" is missing/],
    ['{"userID":"PAT0042X\\u00a0","loanID":"l1"}', 'loan', /"userID" starts or ends with whitespace/],
    ['{"userID":"\\u212aPAT7","loanID":"l1"}', 'loan', /"userID" holds a character whose upper or lower case is an ASCII letter/],
    ['{"userID":"P","requestID":"r1\\ufeff"}', 'request', /"requestID" starts or ends with whitespace/],
    ['{"userID":"P","feeID":"\\uff46\\uff11"}', 'fee', /"feeID" is not in Unicode NFKC form/],
    ['{"userID":"P","loanID":"l1\\ufffe"}', 'loan', /"loanID" holds a Unicode noncharacter/],
  ] as const)('rejects %j for a %s with a specific reason', (body, kind, reason) => {
    // Act / Assess
    expect(() => parseItemRefreshMessage(body, kind)).toThrow(MalformedRefreshMessageError);
    expect(() => parseItemRefreshMessage(body, kind)).toThrow(reason);
  });
});

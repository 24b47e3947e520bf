import { describeAlmaErrors, describesMissingRecord, parseAlmaErrors } from '../../src/lib/alma-error-reply';
import { fullJitterDelayMs, parseRetryAfterSeconds } from '../../src/lib/backoff';

describe('Function: parseAlmaErrors', () => {
  it('reads a list of errors, and a lone error sent as an object', () => {
    // Prepare
    const entry = { errorCode: '401861', errorMessage: 'User with identifier X was not found.', trackingId: 'E01-1' };

    // Act / Assess
    expect(parseAlmaErrors({ errorsExist: true, errorList: { error: [entry] }, result: null })).toEqual([entry]);
    expect(parseAlmaErrors({ errorsExist: true, errorList: { error: entry } })).toEqual([entry]);
    expect(parseAlmaErrors({ item_loan: [] })).toEqual([]);
    expect(parseAlmaErrors(undefined)).toEqual([]);
    expect(describeAlmaErrors([entry])).toBe('401861 User with identifier X was not found. (tracking id E01-1)');
  });
});

describe('Function: describesMissingRecord', () => {
  it.each([
    ['loan', 'Loan ID 7391500230004561 does not exist.', true],
    ['request', 'Failed to find a request for the given request ID.', true],
    ['request', 'Request Identifier not found.', true],
    ['fee', 'Fine not found.', true],
    ['loan', 'User with identifier PAT1 was not found.', false],
    ['loan', 'General Error: An error has occurred while processing the request.', false],
    ['fee', 'Loan ID 1 does not exist.', false],
  ] as const)('%s: %j → %s', (kind, message, expected) => {
    // Act / Assess
    expect(describesMissingRecord(kind, message)).toBe(expected);
  });
});

describe('Function: fullJitterDelayMs', () => {
  it('draws from a window that doubles per attempt up to the cap', () => {
    // Act / Assess
    expect([1, 2, 3, 4, 5, 6].map((attempt) => fullJitterDelayMs(attempt, 250, 8000, () => 0.999999))).toEqual([249, 499, 999, 1999, 3999, 7999]);
    expect(fullJitterDelayMs(12, 250, 8000, () => 0.5)).toBe(4000);
    expect(fullJitterDelayMs(3, 250, 8000, () => 0)).toBe(0);
  });
});

describe('Function: parseRetryAfterSeconds', () => {
  it('reads seconds and HTTP dates, and ignores anything else', () => {
    // Prepare
    const now = Date.parse('2026-11-21T10:00:00Z');

    // Act / Assess
    expect(parseRetryAfterSeconds('7', now)).toBe(7);
    expect(parseRetryAfterSeconds('Sat, 21 Nov 2026 10:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfterSeconds('Sat, 21 Nov 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfterSeconds('soon', now)).toBeUndefined();
    expect(parseRetryAfterSeconds(null, now)).toBeUndefined();
  });
});

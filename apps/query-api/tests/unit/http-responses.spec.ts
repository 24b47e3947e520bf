import {
  AlmaBudgetExhaustedError,
  AlmaInvalidIdentifierError,
  AlmaRequestError,
  AlmaUnavailableError,
  InvalidPatronQueryError,
  PatronDataUnavailableError,
  PatronItemNotFoundError,
  PatronNotFoundError,
} from '@alma-cache/cache-domain';
import { DeadlineExceededError, failureOf } from '../../src/http-responses';

describe('failureOf: one answer per error code', () => {
  it.each([
    ['INVALID_PATRON_QUERY', new InvalidPatronQueryError('the userPrimaryId is empty'), 400, 'info'],
    ['ALMA_INVALID_IDENTIFIER', new AlmaInvalidIdentifierError('recordId', 'is empty'), 400, 'warn'],
    ['PATRON_NOT_FOUND', new PatronNotFoundError('PAT0042X'), 404, 'info'],
    ['PATRON_ITEM_NOT_FOUND', new PatronItemNotFoundError('PAT0042X', 'loan', 'L1'), 404, 'info'],
    ['PATRON_DATA_UNAVAILABLE', new PatronDataUnavailableError('PAT0042X', 'refreshing', 3), 503, 'warn'],
    ['DEADLINE_EXCEEDED', new DeadlineExceededError(5000), 503, 'warn'],
    ['ALMA_REQUEST_REFUSED', new AlmaRequestError(401, 'bad key'), 502, 'error'],
  ])('answers %s with %i (%s)', (code, error, status, severity) => {
    // Act
    const failure = failureOf(error);

    // Assess
    expect((error as Error & { code: string }).code).toBe(code);
    expect(failure).toMatchObject({ status, severity });
  });

  it('answers what the caller can slow down for with 429 and a Retry-After', () => {
    // Act
    const failure = failureOf(new PatronDataUnavailableError('PAT0042X', 'caller-share', 2));

    // Assess
    expect(failure).toMatchObject({ status: 429, headers: { 'retry-after': '2' } });
    expect(failure.message).toContain('share of the Alma budget');
  });

  it('answers an error without an entry, or one that only borrows a code, with a bare 500', () => {
    // Prepare
    const borrowed = Object.assign(new Error('ECONNRESET'), { code: 'PATRON_NOT_FOUND' });
    const errors = [new AlmaUnavailableError('timeout'), new AlmaBudgetExhaustedError(10, 500), borrowed, 'not an error', undefined];

    // Act
    const failures = errors.map(failureOf);

    // Assess
    for (const failure of failures) {
      expect(failure).toEqual({ status: 500, message: 'Internal error; quote the correlation id when reporting it', headers: {}, severity: 'error' });
    }
  });

  it('never echoes a refused identifier: the 400 names the rule', () => {
    // Act
    const failure = failureOf(new AlmaInvalidIdentifierError('userPrimaryId', 'has control characters'));

    // Assess
    expect(failure.message).toBe('Invalid request: the userPrimaryId has control characters');
  });
});

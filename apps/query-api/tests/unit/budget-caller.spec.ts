import { PatronDataUnavailableError } from '@alma-cache/cache-domain';
import { BUDGET_WAIT_RESERVE_MS, budgetCallerOf } from '../../src/budget-caller';
import { failureOf } from '../../src/http-responses';

describe('Function: budgetCallerOf', () => {
  it("charges a reader's or admin's calls to its OAuth client, and a patron token's to the patron", () => {
    // Act
    const reader = budgetCallerOf({ roles: ['reader'], clientId: 'library-app', caller: 'svc', patronHash: 'h1' }, 1_000, 19_000);
    const admin = budgetCallerOf({ roles: ['admin', 'patron'], clientId: 'admin-app', patronHash: 'h2' }, 1_000, 19_000);
    const patron = budgetCallerOf({ roles: ['patron'], clientId: 'opac', caller: 'h3', patronHash: 'h3' }, 1_000, 19_000);

    // Assess
    expect([reader.id, admin.id, patron.id]).toEqual(['client:library-app', 'client:admin-app', 'patron:h3']);
  });

  it('stops the wait for the budget the reserve before the deadline, or half way for a short deadline', () => {
    // Act
    const long = budgetCallerOf({ roles: ['reader'], clientId: 'app' }, 1_000, 19_000);
    const short = budgetCallerOf({ roles: ['reader'], clientId: 'app' }, 1_000, 4_000);

    // Assess
    expect(long.waitUntilMs).toBe(1_000 + 19_000 - BUDGET_WAIT_RESERVE_MS);
    expect(short.waitUntilMs).toBe(1_000 + 2_000);
  });
});

describe('Function: failureOf, for the Alma budget', () => {
  it("answers the stage's busy budget 503 (the patron is queued) and a caller's spent share 429, both with Retry-After", () => {
    // Act
    const busy = failureOf(new PatronDataUnavailableError('PAT0042X', 'budget-busy', 2));
    const share = failureOf(new PatronDataUnavailableError('PAT0042X', 'caller-share', 1));

    // Assess
    expect(busy).toMatchObject({ status: 503, headers: { 'retry-after': '2' }, severity: 'warn' });
    expect(busy.message).toContain('queued for a refresh');
    expect(share).toMatchObject({ status: 429, headers: { 'retry-after': '1' }, severity: 'warn' });
  });
});

import { DEFAULT_EXPIRY_POLICY, RecordLoan, RemoveLoan } from '../../src';
import { UnsupportedEventTypeError } from '../../src/lib/errors';
import { almaWebhookMessage, extraAlmaWebhookMessage } from '../../src/testing';
import { arriving, makeDeps, nowSeconds } from './helpers';

const LOAN_ID = '7391500230004561';

describe('Class: RemoveLoan', () => {
  it("takes a LOAN_LOST off the patron's loans: a tombstone that names the event, and the id unlinked for good", async () => {
    // Prepare
    const { store, deps, clock } = makeDeps();
    store.seedUser('pat0042x', { loan_ids: [LOAN_ID, 'other-loan'] });

    // Act
    const outcome = await new RemoveLoan(deps).execute(arriving(clock, extraAlmaWebhookMessage('LOAN_LOST')));

    // Assess
    expect(outcome).toMatchObject({ item: 'written', user: 'unlinked', event: { eventType: 'LOAN_LOST', itemId: LOAN_ID } });
    expect(store.items.loan.get(LOAN_ID)).toMatchObject({
      tombstone: true,
      eventType: 'LOAN_LOST',
      expiresAt: nowSeconds(clock) + DEFAULT_EXPIRY_POLICY.tombstoneSeconds,
    });
    expect([...store.users.get('pat0042x')!.ids.loan]).toEqual(['other-loan']);
    expect([...store.users.get('pat0042x')!.removedIds.loan]).toEqual([LOAN_ID]);
  });

  it('still refuses a loan event it does not handle, naming LOAN_LOST among those it does', async () => {
    // Prepare
    const { store, deps } = makeDeps();

    // Act
    const act = new RemoveLoan(deps).execute(extraAlmaWebhookMessage('LOAN_CLAIMED_RETURNED'));

    // Assess
    await expect(act).rejects.toBeInstanceOf(UnsupportedEventTypeError);
    await expect(new RemoveLoan(deps).execute(almaWebhookMessage('LOAN_CREATED'))).rejects.toThrow('(accepted: LOAN_RETURNED, LOAN_LOST)');
    expect(store.calls).toEqual([]);
  });
});

describe('Class: RecordLoan', () => {
  it('keeps a LOAN_CLAIMED_RETURNED loan on the patron, with its new process status', async () => {
    // Prepare
    const { store, deps, clock } = makeDeps();
    store.seedUser('pat0042x');
    await new RecordLoan(deps).execute(almaWebhookMessage('LOAN_CREATED'));

    // Act
    const outcome = await new RecordLoan(deps).execute(arriving(clock, extraAlmaWebhookMessage('LOAN_CLAIMED_RETURNED')));

    // Assess
    expect(outcome).toMatchObject({ item: 'written', user: 'linked', event: { eventType: 'LOAN_CLAIMED_RETURNED' } });
    expect(store.items.loan.get(LOAN_ID)).toMatchObject({
      tombstone: false,
      eventType: 'LOAN_CLAIMED_RETURNED',
      fields: { process_status: 'CLAIMED_RETURN' },
    });
    expect([...store.users.get('pat0042x')!.ids.loan]).toEqual([LOAN_ID]);
  });

  it('lets a later LOAN_LOST close a claimed-returned loan', async () => {
    // Prepare
    const { store, deps, clock } = makeDeps();
    store.seedUser('pat0042x');
    await new RecordLoan(deps).execute(arriving(clock, extraAlmaWebhookMessage('LOAN_CLAIMED_RETURNED')));

    // Act
    await new RemoveLoan(deps).execute(arriving(clock, extraAlmaWebhookMessage('LOAN_LOST')));

    // Assess
    expect(store.items.loan.get(LOAN_ID)).toMatchObject({ tombstone: true, eventType: 'LOAN_LOST' });
    expect([...store.users.get('pat0042x')!.ids.loan]).toEqual([]);
  });
});

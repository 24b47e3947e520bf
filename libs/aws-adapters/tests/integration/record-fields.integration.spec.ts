import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_EXPIRY_POLICY, InvalidEventError, type ItemSyncDeps, MalformedEventError, RecordLoan, RefreshItem } from '@alma-cache/cache-domain';
import { almaWebhookMessage, InMemoryAlmaApi, InMemoryUserRefreshQueue, ManualClock } from '@alma-cache/cache-domain/testing';
import { type CacheTableNames, DynamoDbCacheStore } from '../../src';
import { countingDocumentClient, createCacheTables } from '../../src/testing';

const LOAN_ID = '7391500230004561';

/** The sample LOAN_CREATED with fields added to its `item_loan`. */
const loanCreatedWith = (fields: Record<string, unknown>, variation: Parameters<typeof almaWebhookMessage>[1] = {}): string => {
  const body = JSON.parse(almaWebhookMessage('LOAN_CREATED', variation)) as { item_loan: Record<string, unknown> };
  Object.assign(body.item_loan, fields);
  return JSON.stringify(body);
};

// The domain's refusals, proven where they matter: on DynamoDB Local, through the real store.
describe('Integration: Alma fields the cache must not store, on DynamoDB', () => {
  const { client, requests } = countingDocumentClient();
  let tables: CacheTableNames;
  let deps: ItemSyncDeps;
  let clock: ManualClock;

  const getLoan = async (loanId = LOAN_ID) => (await client.send(new GetCommand({ TableName: tables.loans, Key: { loan_id: loanId } }))).Item;

  beforeEach(async () => {
    tables = await createCacheTables();
    clock = new ManualClock('2026-12-10T17:00:00.000Z');
    deps = { store: new DynamoDbCacheStore(client, tables), refreshQueue: new InMemoryUserRefreshQueue(), clock, expiry: DEFAULT_EXPIRY_POLICY };
    await client.send(new PutCommand({ TableName: tables.users, Item: { primary_id: 'pat0042x', user_version: 0 } }));
    requests.length = 0;
  });

  afterAll(() => client.destroy());

  it('does not let `tombstone: true` in an Alma body hide a live loan: refused, the live loan still readable as live', async () => {
    // Prepare: the live loan, as its LOAN_CREATED left it.
    await new RecordLoan(deps).execute(almaWebhookMessage('LOAN_CREATED'));
    requests.length = 0;

    // Act: a newer LOAN_RENEWED whose item_loan says tombstone: true.
    const act = new RecordLoan(deps).execute(loanCreatedWith({ tombstone: true }, { eventId: 'forged', time: '2026-12-10T16:00:00.000Z' }));

    // Assess
    await expect(act).rejects.toBeInstanceOf(MalformedEventError);
    await expect(act).rejects.toThrow('"item_loan.tombstone" is named like one of the cache\'s own attributes');
    expect(requests).toEqual([]);
    const loan = await getLoan();
    expect(loan).toMatchObject({ alma_event_id: '5500110001', loan_status: 'ACTIVE' });
    expect(loan?.['tombstone']).toBeUndefined();
  });

  it.each([
    ['an integer beyond 2^53', { fine: 2 ** 53 + 2 }, /"item_loan.fine" is an integer beyond 2\^53/],
    ['an empty attribute name, nested', { library: { '': 'x' } }, /"item_loan.library" holds an empty attribute name/],
    ['an expires_at field', { expires_at: 1 }, /"item_loan.expires_at" is named like/],
    ['an alma_event_time field', { alma_event_time: '2099-01-01T00:00:00.000Z' }, /"item_loan.alma_event_time" is named like/],
  ])('refuses %s before DynamoDB sees it (was: a ValidationException, retried as transient)', async (_case, fields, reason) => {
    // Act
    const act = new RecordLoan(deps).execute(loanCreatedWith(fields));

    // Assess
    await expect(act).rejects.toBeInstanceOf(InvalidEventError);
    await expect(act).rejects.toThrow(reason);
    expect(requests).toEqual([]);
    expect(await getLoan()).toBeUndefined();
  });

  it("does not tombstone patron A's loan on a refresh message naming patron B", async () => {
    // Prepare: A's live loan; Alma (rightly) says B has no such loan.
    await new RecordLoan(deps).execute(almaWebhookMessage('LOAN_CREATED'));
    await client.send(new PutCommand({ TableName: tables.users, Item: { primary_id: 'patb', user_version: 0 } }));
    const alma = new InMemoryAlmaApi();
    alma.seed('PATB');
    const refresh = new RefreshItem({ store: deps.store, alma, clock, expiry: DEFAULT_EXPIRY_POLICY });

    // Act
    const attack = await refresh.execute({ userPrimaryId: 'PATB', kind: 'loan', itemId: LOAN_ID });
    const afterAttack = await getLoan();
    alma.seed('pat0042x');
    const own = await refresh.execute({ userPrimaryId: 'pat0042x', kind: 'loan', itemId: LOAN_ID });

    // Assess: the attack changed nothing; the owner's own message (any case) does tombstone it.
    expect(attack).toMatchObject({ found: false, item: 'stale', user: 'untouched' });
    expect(afterAttack).toMatchObject({ alma_event_id: '5500110001', user_id: 'PAT0042X' });
    expect(afterAttack?.['tombstone']).toBeUndefined();
    expect(own).toMatchObject({ found: false, item: 'written', user: 'unlinked' });
    expect(await getLoan()).toMatchObject({ tombstone: true, alma_event_type: 'REFRESH' });
  });
});

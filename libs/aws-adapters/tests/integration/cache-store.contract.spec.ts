import { CLAIM_RETRY_AFTER_SECONDS, type CacheStore, type ItemKind, type ItemRecord, type UserSnapshot } from '@alma-cache/cache-domain';
import { InMemoryCacheStore } from '@alma-cache/cache-domain/testing';
import { createDocumentClient, DynamoDbCacheStore } from '../../src';
import { createCacheTables } from '../../src/testing';

// One contract, two stores: the domain's tests lean on InMemoryCacheStore, so it must answer every CacheStore call
// exactly as DynamoDbCacheStore does on DynamoDB Local. Only the port's own methods are used to observe the effects.

const client = createDocumentClient();
afterAll(() => client.destroy());

const STORES: [string, () => Promise<CacheStore>][] = [
  ['InMemoryCacheStore', async () => new InMemoryCacheStore()],
  ['DynamoDbCacheStore', async () => new DynamoDbCacheStore(client, await createCacheTables())],
];

const PATRON = 'pat0042x';
const OTHER = 'pat0099y';
const LOAN = '7391500230004561';

const loan = (eventId: string, eventTime: string, overrides: Partial<ItemRecord> = {}): ItemRecord => ({
  kind: 'loan',
  itemId: LOAN,
  userPrimaryId: 'PAT0042X',
  eventId,
  eventType: 'LOAN_CREATED',
  eventTime,
  tombstone: false,
  expiresAt: 1_900_000_000,
  fields: { loan_id: LOAN, user_id: 'PAT0042X', title: 'TAOCP' },
  ...overrides,
});

const sets = (loans: string[] = [], requests: string[] = [], fees: string[] = []): Record<ItemKind, ReadonlySet<string>> => ({
  loan: new Set(loans),
  request: new Set(requests),
  fee: new Set(fees),
});

const T1 = '2026-11-21T10:00:00.000Z';
const T2 = '2026-11-21T11:00:00.000Z';

describe.each(STORES)('Contract: CacheStore (%s)', (_name, makeStore) => {
  let store: CacheStore;

  beforeEach(async () => {
    store = await makeStore();
  });

  describe('writeItem', () => {
    it('writes a first version, reports its redelivery as duplicate, an older version as stale and a newer one as written', async () => {
      // Act
      const results = [
        await store.writeItem(loan('e2', T2)),
        await store.writeItem(loan('e2', T2)),
        await store.writeItem(loan('e1', T1)),
        await store.writeItem(loan('e3', '2026-11-21T12:00:00.000Z')),
      ];

      // Assess
      expect(results).toEqual(['written', 'duplicate', 'stale', 'written']);
    });

    it('breaks a tie in time: a tombstone beats a live record, and the first live record stays', async () => {
      // Act
      const results = [
        await store.writeItem(loan('live-a', T1)),
        await store.writeItem(loan('live-b', T1)),
        await store.writeItem(loan('gone', T1, { tombstone: true })),
        await store.writeItem(loan('live-c', T1)),
      ];

      // Assess
      expect(results).toEqual(['written', 'stale', 'written', 'stale']);
    });

    it("with onlyOwnedBy, replaces no record of another patron, but writes where there is none or it is the patron's", async () => {
      // Prepare: the loan is another patron's
      await store.writeItem(loan('theirs', T1, { userPrimaryId: 'PAT0099Y', fields: { loan_id: LOAN, user_id: 'PAT0099Y' } }));

      // Act
      const onTheirs = await store.writeItem(loan('tomb-1', T2, { tombstone: true, onlyOwnedBy: PATRON }));
      const onNone = await store.writeItem(loan('tomb-2', T2, { itemId: 'no-such-loan', tombstone: true, onlyOwnedBy: PATRON }));
      const onOwn = await store.writeItem(loan('tomb-3', T2, { tombstone: true, onlyOwnedBy: OTHER }));

      // Assess
      expect([onTheirs, onNone, onOwn]).toEqual(['stale', 'written', 'written']);
    });
  });

  describe('patron id sets', () => {
    it('links and unlinks only on a cached patron, never links a removed id again, and bumps the version per change', async () => {
      // Act
      const before = await store.linkItem(PATRON, 'loan', 'L1');
      const unlinkBefore = await store.unlinkItem(PATRON, 'loan', 'L1');
      await store.beginUserRefresh(PATRON, 1_900_000_000);
      const linked = [await store.linkItem(PATRON, 'loan', 'L1'), await store.linkItem(PATRON, 'request', 'R1')];
      const unlinked = await store.unlinkItem(PATRON, 'loan', 'L1');
      const relinked = await store.linkItem(PATRON, 'loan', 'L1');
      const user = await store.readUser(PATRON);

      // Assess
      expect([before, unlinkBefore]).toEqual(['user-not-cached', 'user-not-cached']);
      expect([...linked, unlinked, relinked]).toEqual(['updated', 'updated', 'updated', 'item-removed']);
      expect(user).toEqual({ userKey: PATRON, ids: sets([], ['R1']), removedIds: sets(['L1']), version: 3 });
    });

    it('begins a refresh with an empty patron without refreshedAt, and never overwrites a cached one', async () => {
      // Act
      await store.beginUserRefresh(PATRON, 1_900_000_000);
      const empty = await store.readUser(PATRON);
      await store.linkItem(PATRON, 'fee', 'F1');
      await store.beginUserRefresh(PATRON, 1_900_000_000);
      const kept = await store.readUser(PATRON);

      // Assess
      expect(empty).toEqual({ userKey: PATRON, ids: sets(), removedIds: sets(), version: 0 });
      expect(kept).toEqual({ userKey: PATRON, ids: sets([], [], ['F1']), removedIds: sets(), version: 1 });
      expect(await store.readUser(OTHER)).toBeUndefined();
    });

    it('replaces and deletes a patron only at the version read', async () => {
      // Prepare
      await store.beginUserRefresh(PATRON, 1_900_000_000);
      const snapshot: UserSnapshot = {
        userKey: PATRON,
        ids: sets(['L1', 'L2'], [], ['F1']),
        removedIds: sets([], ['R0']),
        refreshedAt: '2026-11-21T10:00:00.000Z',
        expiresAt: 1_900_000_000,
      };

      // Act
      const wrongVersion = await store.replaceUser(snapshot, 7);
      const replaced = await store.replaceUser(snapshot, 0);
      const afterReplace = await store.readUser(PATRON);
      const missing = await store.replaceUser({ ...snapshot, userKey: OTHER }, 0);
      const staleDelete = await store.deleteUser(PATRON, 0);
      const deleted = await store.deleteUser(PATRON, afterReplace!.version);

      // Assess
      expect([wrongVersion, replaced, missing, staleDelete, deleted]).toEqual([false, true, false, false, true]);
      expect(afterReplace).toEqual({
        userKey: PATRON,
        ids: snapshot.ids,
        removedIds: snapshot.removedIds,
        version: 1,
        refreshedAt: snapshot.refreshedAt,
      });
      expect(await store.readUser(PATRON)).toBeUndefined();
    });
  });

  describe('refresh claims', () => {
    const claim = (claimant: string, nowSeconds: number) => store.claimUserRefresh({ userKey: PATRON, claimant, nowSeconds, untilSeconds: 1_000 });

    it('grants a claim to one claimant until it expires, and again to that claimant only later and until its request is marked sent', async () => {
      // Act
      const first = await claim('event-1', 100);
      const copyBeside = await claim('event-1', 100 + CLAIM_RETRY_AFTER_SECONDS - 1);
      const other = await claim('event-2', 200);
      const retry = await claim('event-1', 300);
      await store.markRefreshSent(PATRON, 'event-2');
      const afterOthersMark = await claim('event-1', 400);
      await store.markRefreshSent(PATRON, 'event-1');
      const redelivery = await claim('event-1', 500);
      const expired = await claim('event-3', 1_000);

      // Assess
      expect({ first, copyBeside, other, retry, afterOthersMark, redelivery, expired }).toEqual({
        first: true,
        copyBeside: false,
        other: false,
        retry: true,
        afterOthersMark: true,
        redelivery: false,
        expired: true,
      });
    });

    it("releases only the claimant's own unsent claim: the next caller may claim at once", async () => {
      // Act
      await claim('query-1', 100);
      await store.releaseUserRefresh(PATRON, 'query-2', 200);
      const othersRelease = await claim('event-1', 200);
      await store.releaseUserRefresh(PATRON, 'query-1', 200);
      const afterRelease = await claim('event-1', 200);
      await store.markRefreshSent(PATRON, 'event-1');
      await store.releaseUserRefresh(PATRON, 'event-1', 300);
      const afterSentRelease = await claim('query-3', 300);

      // Assess
      expect({ othersRelease, afterRelease, afterSentRelease }).toEqual({ othersRelease: false, afterRelease: true, afterSentRelease: false });
    });

    it('keeps a claim a refresh was coalesced into when its claimant gives it up, and says so, unless told to; notes only a live claim', async () => {
      // Act
      const noClaim = await store.noteRefreshWanted(PATRON, 100);
      await claim('query-1', 100);
      const noted = await store.noteRefreshWanted(PATRON, 150);
      const othersRelease = await store.releaseUserRefresh(PATRON, 'query-2', 200);
      const wanted = await store.releaseUserRefresh(PATRON, 'query-1', 200);
      const stillHeld = await claim('event-1', 200);
      const forced = await store.releaseUserRefresh(PATRON, 'query-1', 200, true);
      const afterForced = await claim('event-1', 200);
      await store.claimUserRefresh({ userKey: OTHER, claimant: 'query-3', nowSeconds: 100, untilSeconds: 400 });
      const plainRelease = await store.releaseUserRefresh(OTHER, 'query-3', 200);
      const afterExpiry = await store.noteRefreshWanted(OTHER, 200);

      // Assess
      expect({ noClaim, noted, othersRelease, wanted, stillHeld, forced, afterForced, plainRelease, afterExpiry }).toEqual({
        noClaim: false,
        noted: true,
        othersRelease: false,
        wanted: true,
        stillHeld: false,
        forced: false,
        afterForced: true,
        plainRelease: false,
        afterExpiry: false,
      });
    });

    it('removes an abandoned placeholder, never a refreshed patron nor one a webhook linked an item to', async () => {
      // Prepare
      const LINKED = 'pat-linked-meanwhile';
      await store.beginUserRefresh(PATRON, 1_900_000_000);
      await store.beginUserRefresh(OTHER, 1_900_000_000);
      await store.beginUserRefresh(LINKED, 1_900_000_000);
      await store.replaceUser({ userKey: OTHER, ids: sets(['L1']), removedIds: sets(), refreshedAt: T1, expiresAt: 1_900_000_000 }, 0);
      await store.linkItem(LINKED, 'loan', 'L2');

      // Act
      const kept = [
        await store.abandonUserRefresh(PATRON),
        await store.abandonUserRefresh(OTHER),
        await store.abandonUserRefresh(LINKED),
        await store.abandonUserRefresh('pat-not-cached'),
      ];

      // Assess
      expect(kept).toEqual([false, false, true, false]);
      expect(await store.readUser(PATRON)).toBeUndefined();
      expect(await store.readUser(OTHER)).toMatchObject({ refreshedAt: T1, ids: sets(['L1']) });
      const linked = await store.readUser(LINKED);
      expect(linked).toMatchObject({ ids: sets(['L2']) });
      expect(linked?.refreshedAt).toBeUndefined();
      expect(linked?.version).toBeGreaterThan(0);
    });
  });
});

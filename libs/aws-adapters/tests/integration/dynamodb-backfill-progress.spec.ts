import { BackfillProgressError, createDocumentClient, DynamoDbBackfillProgress } from '../../src';
import { createAlmaGuardTable } from '../../src/testing';

const codeOf = async (attempt: Promise<unknown>): Promise<string | undefined> =>
  attempt.then(
    () => undefined,
    (error: unknown) => (error instanceof BackfillProgressError ? error.code : `not a BackfillProgressError: ${String(error)}`),
  );

describe('Class: DynamoDbBackfillProgress', () => {
  const client = createDocumentClient();
  let table: string;
  let nowMs: number;
  const progressAt = () => new DynamoDbBackfillProgress(client, table, { leaseSeconds: 60, now: () => nowMs });

  beforeAll(async () => {
    table = await createAlmaGuardTable();
  });
  beforeEach(() => {
    nowMs = Date.parse('2026-12-06T10:00:00.000Z');
  });
  afterAll(() => client.destroy());

  it('starts a new run at 0, keeps the position it saved, and resumes there on another "machine" after a release', async () => {
    // Prepare
    const first = progressAt();
    const started = await first.acquire('resume', 'host-a:1', { source: 'file:abc' });
    await first.save('resume', 'host-a:1', { position: 200, total: 500, counts: { queued: 180, cached: 20 } });
    await first.release('resume', 'host-a:1', { finished: false });

    // Act
    const resumed = await progressAt().acquire('resume', 'host-b:7', { source: 'file:abc' });

    // Assess
    expect(started).toMatchObject({ run: 'resume', position: 0, source: 'file:abc', counts: {} });
    expect(resumed).toMatchObject({ position: 200, total: 500, counts: { queued: 180, cached: 20 }, source: 'file:abc' });
    expect(resumed.finishedAt).toBeUndefined();
  });

  it('refuses a second process while the lease runs, and lets it take over once the lease has run out', async () => {
    // Prepare
    const progress = progressAt();
    await progress.acquire('lease', 'host-a:1', { source: 'alma-users' });

    // Act
    const whileHeld = await codeOf(progress.acquire('lease', 'host-b:2', { source: 'alma-users' }));
    nowMs += 61_000;
    const takenOver = await progress.acquire('lease', 'host-b:2', { source: 'alma-users' });
    const staleSave = await codeOf(progress.save('lease', 'host-a:1', { position: 10 }));

    // Assess: the lapsed holder finds out at its next save and stops; the position it would have written is not.
    expect(whileHeld).toBe('BACKFILL_LEASE_HELD');
    expect(takenOver.position).toBe(0);
    expect(staleSave).toBe('BACKFILL_LEASE_LOST');
    expect((await progress.read('lease'))?.position).toBe(0);
  });

  it('renews the lease on every save, so a run that saves keeps it past the first lease', async () => {
    // Prepare
    const progress = progressAt();
    await progress.acquire('renew', 'host-a:1', { source: 'alma-users' });

    // Act
    nowMs += 50_000;
    await progress.save('renew', 'host-a:1', { position: 5 });
    nowMs += 50_000;
    const other = await codeOf(progress.acquire('renew', 'host-b:2', { source: 'alma-users' }));

    // Assess
    expect(other).toBe('BACKFILL_LEASE_HELD');
  });

  it('refuses to resume a run on another list unless restarted, and a restart begins again at 0', async () => {
    // Prepare
    const progress = progressAt();
    await progress.acquire('lists', 'host-a:1', { source: 'file:abc' });
    await progress.save('lists', 'host-a:1', { position: 42, counts: { queued: 42 } });
    await progress.release('lists', 'host-a:1', { finished: true });

    // Act
    const otherList = await codeOf(progress.acquire('lists', 'host-a:1', { source: 'file:def' }));
    const sameList = await progress.acquire('lists', 'host-a:1', { source: 'file:abc' });
    const restarted = await progress.acquire('lists', 'host-a:1', { source: 'file:def', restart: true });

    // Assess
    expect(otherList).toBe('BACKFILL_SOURCE_CHANGED');
    expect(sameList).toMatchObject({ position: 42, finishedAt: expect.any(String) });
    expect(restarted).toMatchObject({ position: 0, source: 'file:def', counts: {} });
    expect(restarted.finishedAt).toBeUndefined();
  });

  it('refuses a run name that could reach another guard item', async () => {
    // Act
    const codes = await Promise.all(['../calls/1', 'Semester', '', 'a/b'].map((run) => codeOf(progressAt().acquire(run, 'me', { source: 'x' }))));

    // Assess
    expect(codes).toEqual(['BACKFILL_RUN_NAME', 'BACKFILL_RUN_NAME', 'BACKFILL_RUN_NAME', 'BACKFILL_RUN_NAME']);
  });
});

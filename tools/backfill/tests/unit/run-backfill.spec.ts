import type { BackfillOutcome } from '@alma-cache/cache-domain';
import type { BackfillRunState } from '@alma-cache/aws-adapters';
import { almaUsersList, type BackfillDeps, type BackfillProgressStore, fileList, runBackfill } from '../../backfill';
import { formatProgress } from '../../progress-line';

/** A progress store in memory, with one lease, as the DynamoDB one behaves for a single process. */
class MemoryProgress implements BackfillProgressStore {
  public state?: BackfillRunState & { owner?: string };
  public saves = 0;

  public async acquire(run: string, owner: string, start: { source: string; restart?: boolean }): Promise<BackfillRunState> {
    if (this.state?.owner !== undefined && this.state.owner !== owner) throw new Error('held');
    if (this.state === undefined || start.restart) {
      this.state = { run, position: 0, source: start.source, counts: {}, startedAt: 'now', updatedAt: 'now' };
    }
    this.state = { ...this.state, owner };
    return this.state;
  }

  public async save(_run: string, owner: string, progress: { position: number; total?: number; counts?: Readonly<Record<string, number>> }) {
    if (this.state?.owner !== owner) throw new Error('lost');
    this.saves += 1;
    this.state = { ...this.state, position: progress.position, total: progress.total, counts: { ...(progress.counts ?? this.state.counts) } };
  }

  public async release(_run: string, owner: string, end: { finished: boolean }) {
    if (this.state?.owner !== owner) throw new Error('lost');
    this.state = { ...this.state, owner: undefined, ...(end.finished ? { finishedAt: 'then' } : {}) };
  }
}

/** A clock that only moves when the code under test sleeps. */
const virtualTime = () => {
  let now = 1_000_000;
  return { now: () => now, sleep: async (ms: number) => void (now += ms), advance: (ms: number) => void (now += ms) };
};

const ids = (n: number) => Array.from({ length: n }, (_, i) => `PAT${String(i).padStart(4, '0')}`);

const makeDeps = (overrides: Partial<BackfillDeps> & { cached?: Set<string> } = {}) => {
  const time = virtualTime();
  const sent: { id: string; at: number }[] = [];
  const progress = new MemoryProgress();
  const deps: BackfillDeps = {
    backfillPatron: async (id): Promise<BackfillOutcome> => {
      if (overrides.cached?.has(id)) return 'cached';
      sent.push({ id, at: time.now() });
      return 'queued';
    },
    progress,
    list: fileList(ids(10)),
    queueBacklog: async () => 0,
    refreshShareBusy: async () => 0,
    now: time.now,
    sleep: time.sleep,
    ...overrides,
  };
  return { deps, sent, progress, time };
};

const options = { run: 'unit', owner: 'me', source: 'file:x', patronsPerSecond: 2, callsPerPatron: 3, maxBacklog: 5 };

describe('Function: runBackfill', () => {
  it('queues every patron of the list at the pace, and records the end', async () => {
    // Prepare
    const { deps, sent, progress } = makeDeps();

    // Act
    const result = await runBackfill(deps, options);

    // Assess: 2 patrons/s → one every 500 ms
    expect(sent.map((send) => send.id)).toEqual(ids(10));
    expect(sent.slice(1).map((send, i) => send.at - sent[i].at)).toEqual(Array(9).fill(500));
    expect(result).toMatchObject({ end: 'finished', position: 10, total: 10, queuedNow: 10, calls: 30, counts: { queued: 10 } });
    expect(progress.state).toMatchObject({ position: 10, finishedAt: 'then', owner: undefined });
  });

  it('does not spend the pace on patrons already complete in the cache', async () => {
    // Prepare
    const { deps, sent, time } = makeDeps({ cached: new Set(ids(10).slice(0, 8)) });
    const start = time.now();

    // Act
    const result = await runBackfill(deps, options);

    // Assess: 8 skipped without waiting, then 2 queued half a second apart
    expect(result.counts).toEqual({ cached: 8, queued: 2 });
    expect(sent[0].at - start).toBe(0);
    expect(sent[1].at - sent[0].at).toBe(500);
  });

  it('stops on the signal after the patron in hand, saves the position, and resumes there', async () => {
    // Prepare
    const { deps, sent, progress } = makeDeps();
    const abort = new AbortController();

    // Act
    const first = await runBackfill(deps, { ...options, signal: abort.signal, onProgress: (report) => report.position === 4 && abort.abort() });
    const second = await runBackfill(deps, options);

    // Assess: each patron once across the two sessions
    expect(first).toMatchObject({ end: 'interrupted', position: 4, queuedNow: 4 });
    expect(progress.state?.position).toBe(10);
    expect(second).toMatchObject({ end: 'finished', startPosition: 4, position: 10, queuedNow: 6, counts: { queued: 10 } });
    expect(sent.map((send) => send.id)).toEqual(ids(10));
  });

  it('waits while the Users queue holds more than the bound, looking again once a second', async () => {
    // Prepare: the queue is full for the first 3 looks
    let looks = 0;
    const { deps, sent, time } = makeDeps({ list: fileList(ids(2)), queueBacklog: async () => (++looks <= 3 ? 50 : 0) });
    const start = time.now();

    // Act
    const result = await runBackfill(deps, options);

    // Assess
    expect(sent[0].at - start).toBe(3000);
    expect(result.yieldedMs).toBe(3000);
  });

  it('waits while the budget is busy, for as long as the gauge says', async () => {
    // Prepare
    let looks = 0;
    const { deps, sent, time } = makeDeps({ list: fileList(ids(1)), refreshShareBusy: async () => (++looks === 1 ? 700 : 0) });
    const start = time.now();

    // Act
    await runBackfill(deps, options);

    // Assess: 700 ms for the busy second, then the gauge is asked again only after its 1 s interval
    expect(sent[0].at - start).toBeGreaterThanOrEqual(700);
    expect(looks).toBe(2);
  });

  it('keeps the lease alive with saves while it waits', async () => {
    // Prepare: the queue stays full for 10 s
    const { deps, progress, time } = makeDeps({ list: fileList(ids(1)) });
    const full = time.now() + 10_000;
    const waiting = { ...deps, queueBacklog: async () => (time.now() < full ? 99 : 0) };

    // Act
    await runBackfill(waiting, { ...options, saveEveryMs: 2000 });

    // Assess: a save every 2 s of waiting, plus the final one
    expect(progress.saves).toBeGreaterThanOrEqual(5);
  });

  it('does nothing for a run that already finished its list', async () => {
    // Prepare
    const { deps, sent } = makeDeps({ list: fileList(ids(2)) });
    await runBackfill(deps, options);

    // Act
    const again = await runBackfill(deps, options);

    // Assess
    expect(again.end).toBe('already-finished');
    expect(sent).toHaveLength(2);
  });

  it("walks Alma's list page by page from the saved offset, and passes over an id that fails the rule", async () => {
    // Prepare: 250 users, one of them with a separator in its id
    const everyone = ids(250).map((id, i) => (i === 106 ? 'bad/id' : id));
    const asked: number[] = [];
    const list = almaUsersList(async ({ offset, limit }) => {
      asked.push(offset);
      return { primaryIds: everyone.slice(offset, offset + limit), total: everyone.length };
    });
    const { deps, sent, progress } = makeDeps({ list });
    progress.state = { run: 'unit', position: 100, source: 'file:x', counts: {}, startedAt: '', updatedAt: '' };

    // Act
    const result = await runBackfill(deps, { ...options, patronsPerSecond: 1000 });

    // Assess: pages at 100 and 200 only
    expect(asked).toEqual([100, 200]);
    expect(sent).toHaveLength(149);
    expect(sent.map((send) => send.id)).not.toContain('bad/id');
    expect(result).toMatchObject({ end: 'finished', position: 250, total: 250, calls: 149 * 3 + 2, counts: { queued: 149, refused: 1 } });
  });
});

describe('Function: formatProgress', () => {
  it('shows done / total, the outcomes, calls, rate and ETA', () => {
    // Act
    const line = formatProgress({
      run: 'r',
      startPosition: 0,
      position: 200,
      total: 500,
      counts: { queued: 180, cached: 20 },
      calls: 540,
      rate: 9.8,
      etaSeconds: 31,
      elapsedMs: 20_000,
    });

    // Assess
    expect(line).toBe('[##########..............] 200/500  40%  queued 180  cached 20  calls ~540  9.8/s  ETA 0:31');
  });
});

import { type BackfillOutcome, isIdentifier } from '@alma-cache/cache-domain';
import type { AlmaUsersPage } from '@alma-cache/alma-api';
import type { BackfillRunState } from '@alma-cache/aws-adapters';

/** One entry of a run's list: the patron id, and its index in the list (what the saved position counts). */
export interface ListEntry {
  readonly index: number;
  readonly id: string;
}

/** The patrons a run walks, from any index, and how many there are. */
export interface PatronList {
  /** The list's length as known now (Alma's `total_record_count` after the first page read). */
  total(): number;
  /** Alma list pages read so far (0 for a file). */
  readonly pagesRead: number;
  entries(from: number): AsyncIterable<ListEntry>;
}

/**
 * A file's ids, in file order.
 *
 * @example
 * const list = fileList(parsePatronIds(text).ids);
 */
export const fileList = (ids: readonly string[]): PatronList => ({
  total: () => ids.length,
  pagesRead: 0,
  async *entries(from) {
    for (let index = from; index < ids.length; index += 1) yield { index, id: ids[index] };
  },
});

/**
 * Alma's users list, read a page at a time from `from` (Alma's `offset`), ordered by primary id. Offsets are positions
 * in Alma's list as it is when each page is read: a user added or purged during a long walk moves the later pages by
 * one, so one user may be seen twice (the claim and the skip make that harmless) or, rarely, once missed (the next
 * miss or webhook for them rebuilds them).
 *
 * @example
 * const list = almaUsersList((page) => alma.listUsers(page));
 */
export const almaUsersList = (
  listUsers: (page: { offset: number; limit: number }) => Promise<AlmaUsersPage>,
  pageSize = 100,
): PatronList & { pagesRead: number } => {
  let known = 0;
  const list = {
    total: () => known,
    pagesRead: 0,
    async *entries(from: number) {
      for (let offset = from; ;) {
        const page = await listUsers({ offset, limit: pageSize });
        list.pagesRead += 1;
        known = page.total;
        for (const [i, id] of page.primaryIds.entries()) yield { index: offset + i, id };
        offset += page.primaryIds.length;
        if (page.primaryIds.length === 0 || offset >= page.total) return;
      }
    },
  };
  return list;
};

/** What a run reports as it goes, and at its end. */
export interface BackfillProgressReport {
  readonly run: string;
  /** Where this session started, and where it is: entries of the list done. */
  readonly startPosition: number;
  readonly position: number;
  readonly total: number;
  /** Patrons per outcome over every session of the run (`queued`, `cached`, `already-requested`, `refused`). */
  readonly counts: Readonly<Record<string, number>>;
  /** Alma calls this session caused or made: rebuilds queued × calls per patron (an estimate) + list pages read. */
  readonly calls: number;
  /** Entries done per second in this session. */
  readonly rate: number;
  /** Seconds to the end of the list at the pace, undefined when unknown. */
  readonly etaSeconds?: number;
  readonly elapsedMs: number;
}

export interface BackfillResult extends BackfillProgressReport {
  /** `finished`: reached the end of the list; `interrupted`: stopped on the signal (run again to resume). */
  readonly end: 'finished' | 'interrupted' | 'already-finished';
  /** Patrons queued in this session. */
  readonly queuedNow: number;
  /** Time this session spent waiting for a busy refresh share or a full Users queue (not for the pace). */
  readonly yieldedMs: number;
}

/** The run's progress store: a lease and a position (aws-adapters `DynamoDbBackfillProgress`). */
export interface BackfillProgressStore {
  acquire(run: string, owner: string, start: { source: string; restart?: boolean }): Promise<BackfillRunState>;
  save(run: string, owner: string, progress: { position: number; total?: number; counts?: Readonly<Record<string, number>> }): Promise<void>;
  release(run: string, owner: string, end: { finished: boolean }): Promise<void>;
}

export interface BackfillDeps {
  /** `BackfillPatron.execute`: skip, or claim and queue. */
  readonly backfillPatron: (id: string) => Promise<BackfillOutcome>;
  readonly progress: BackfillProgressStore;
  readonly list: PatronList;
  /** Messages waiting on the Users queue (`ApproximateNumberOfMessages`). */
  readonly queueBacklog: () => Promise<number>;
  /**
   * Milliseconds to wait because the bulk refresh's share of the budget is full now, 0 when a call of it is free
   * (aws-adapters `DynamoDbAlmaBudgetGauge`, which looks without taking a call). The rebuilds come out of that share:
   * sending more while it is full only lengthens the queue and delays the rebuilds webhooks asked for.
   */
  readonly refreshShareBusy: () => Promise<number>;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface BackfillRunOptions {
  readonly run: string;
  /** Who runs it (`host:pid`), for the lease. */
  readonly owner: string;
  /** The list's fingerprint (see `PatronIdList.source`), or `alma-users`. */
  readonly source: string;
  readonly restart?: boolean;
  readonly patronsPerSecond: number;
  readonly callsPerPatron: number;
  /** Wait while the Users queue holds more than this. */
  readonly maxBacklog: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (report: BackfillProgressReport) => void;
  /** Save the position at least this often (ms), and after this many entries. Defaults 2000 ms, 50 entries. */
  readonly saveEveryMs?: number;
  readonly saveEveryEntries?: number;
}

/** A backlog or busy check is asked at most this often; in between, its last answer stands. */
const GAUGE_INTERVAL_MS = 1000;
/** Longest single nap while waiting, so that Ctrl-C and the lease heartbeat are never late. */
const MAX_NAP_MS = 1000;

/**
 * Walks a run's list from where it stopped and hands each patron to `backfillPatron`, at most `patronsPerSecond`
 * rebuilds queued per second, waiting while the refresh share is busy or the Users queue holds more than
 * `maxBacklog` messages. The position is saved as it goes (and renews the run's lease), and once more when the
 * signal stops it or the list ends, so that running it again resumes there, here or on another machine.
 *
 * Only a queued patron costs Alma calls, so only a queued patron spends the pace: patrons already complete (or
 * already asked for) go by at DynamoDB's speed.
 *
 * @example
 * const result = await runBackfill(deps, { run: 'semester', owner: 'host:42', source, patronsPerSecond: 0.5,
 *   callsPerPatron: 3, maxBacklog: 2, signal });
 * result.end; // 'finished' | 'interrupted'
 * @throws BackfillProgressError when another process holds the run, or took it over meanwhile
 */
export const runBackfill = async (deps: BackfillDeps, options: BackfillRunOptions): Promise<BackfillResult> => {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const saveEveryMs = options.saveEveryMs ?? 2000;
  const saveEveryEntries = options.saveEveryEntries ?? 50;
  const state = await deps.progress.acquire(options.run, options.owner, { source: options.source, restart: options.restart });
  const started = now();
  const counts: Record<string, number> = { ...state.counts };
  let position = state.position;
  let queuedNow = 0;
  let yieldedMs = 0;
  let lastSave = { at: started, position };
  let nextSendAt = started;
  let backlog = { at: -Infinity, value: 0 };
  let busy = { at: -Infinity, value: 0 };

  const report = (): BackfillProgressReport => {
    const elapsedMs = now() - started;
    const total = Math.max(deps.list.total(), state.total ?? 0, position);
    const done = position - state.position;
    const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
    const remaining = total - position;
    // At the rate seen so far (skipped patrons go faster than the pace), else at the pace.
    const perSecond = rate > 0 ? rate : options.patronsPerSecond;
    return {
      run: options.run,
      startPosition: state.position,
      position,
      total,
      counts: { ...counts },
      calls: queuedNow * options.callsPerPatron + deps.list.pagesRead,
      rate,
      ...(total > 0 && perSecond > 0 ? { etaSeconds: remaining / perSecond } : {}),
      elapsedMs,
    };
  };
  const save = async () => {
    await deps.progress.save(options.run, options.owner, { position, total: Math.max(deps.list.total(), position), counts });
    lastSave = { at: now(), position };
  };
  const saveIfDue = async () => {
    if (now() - lastSave.at >= saveEveryMs || position - lastSave.position >= saveEveryEntries) await save();
  };
  /** Waits until `ready()` answers 0, napping at most a second at a time; false when the signal stopped it. */
  const waitFor = async (ready: () => Promise<number>, counted: boolean): Promise<boolean> => {
    for (;;) {
      if (options.signal?.aborted) return false;
      const waitMs = await ready();
      if (waitMs <= 0) return true;
      const nap = Math.min(waitMs, MAX_NAP_MS);
      if (counted) yieldedMs += nap;
      await sleep(nap);
      // The heartbeat: a long wait must not let the lease lapse.
      await saveIfDue();
    }
  };
  const paced = async () => Math.max(0, nextSendAt - now());
  const queueRoom = async () => {
    if (now() - backlog.at >= GAUGE_INTERVAL_MS) backlog = { at: now(), value: await deps.queueBacklog() };
    return backlog.value > options.maxBacklog ? GAUGE_INTERVAL_MS : 0;
  };
  const shareFree = async () => {
    if (now() - busy.at >= GAUGE_INTERVAL_MS) busy = { at: now(), value: await deps.refreshShareBusy() };
    return busy.value;
  };

  if (state.finishedAt !== undefined && !options.restart) {
    await deps.progress.release(options.run, options.owner, { finished: true });
    return { ...report(), end: 'already-finished', queuedNow, yieldedMs };
  }
  let end: BackfillResult['end'] = 'interrupted';
  try {
    let reachedEnd = true;
    for await (const entry of deps.list.entries(position)) {
      const go = (await waitFor(paced, false)) && (await waitFor(queueRoom, true)) && (await waitFor(shareFree, true));
      if (!go) {
        reachedEnd = false;
        break;
      }
      // Alma's list is not checked by the file reader: an id there that fails the rule is counted and passed over.
      const outcome = isIdentifier(entry.id) ? await deps.backfillPatron(entry.id) : 'refused';
      counts[outcome] = (counts[outcome] ?? 0) + 1;
      if (outcome === 'queued') {
        queuedNow += 1;
        nextSendAt = Math.max(nextSendAt, now()) + 1000 / options.patronsPerSecond;
        // The rebuild just queued is on the queue now: count it until the gauge looks again.
        backlog = { ...backlog, value: backlog.value + 1 };
      }
      position = entry.index + 1;
      await saveIfDue();
      options.onProgress?.(report());
    }
    if (reachedEnd) end = 'finished';
  } finally {
    // Also on a failure (DynamoDB, SQS, Alma's list): what was done is kept, and the run can be resumed at once.
    await save();
    await deps.progress.release(options.run, options.owner, { finished: end === 'finished' });
  }
  return { ...report(), end, queuedNow, yieldedMs };
};

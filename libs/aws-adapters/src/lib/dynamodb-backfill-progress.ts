import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ALMA_GUARD_ATTRIBUTES, BACKFILL_PROGRESS_ATTRIBUTES } from './table-schema';

const { key: GUARD_KEY, expiresAt: EXPIRES_AT } = ALMA_GUARD_ATTRIBUTES;
const P = BACKFILL_PROGRESS_ATTRIBUTES;

/** A run's item stays this long after its last write (TTL), long enough to resume after a holiday. */
const KEEP_SECONDS = 30 * 86_400;
/** Run names: what an operator types, and nothing that could reach another guard item. */
const RUN_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Where a backfill run stands, as kept on the Alma guard table. */
export interface BackfillRunState {
  readonly run: string;
  /** How many entries of the list are done: the next run resumes at this index (a line, or a place in Alma's list). */
  readonly position: number;
  /** The list's length when last known. */
  readonly total?: number;
  /** What the list is (a file's digest, or `alma-users`): a run never resumes on another list. */
  readonly source: string;
  /** Patrons per outcome so far (`queued`, `cached`, `already-requested`, …), over every session of the run. */
  readonly counts: Readonly<Record<string, number>>;
  readonly startedAt: string;
  readonly updatedAt: string;
  /** Set when the run reached the end of its list. */
  readonly finishedAt?: string;
}

/** Why a run's progress could not be taken or kept. */
export type BackfillProgressErrorCode = 'BACKFILL_LEASE_HELD' | 'BACKFILL_LEASE_LOST' | 'BACKFILL_SOURCE_CHANGED' | 'BACKFILL_RUN_NAME';

/**
 * A backfill run is held by another process (its lease has not run out), the lease was lost while running (another
 * process took it over after it lapsed), the run was started on another list, or the run name is unusable.
 */
export class BackfillProgressError extends Error {
  public constructor(
    public readonly code: BackfillProgressErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BackfillProgressError';
  }
}

/** How {@link DynamoDbBackfillProgress} keeps time and how long a lease lasts without a save. */
export interface DynamoDbBackfillProgressOptions {
  /** Seconds a lease lasts after each save. Default 60: a crashed run can be resumed elsewhere a minute later. */
  readonly leaseSeconds?: number;
  /** For tests: milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * A warm-up backfill's progress, kept on the Alma guard table (item `backfill/<run name>`) so that a run stopped on
 * one machine can be resumed on another. One process at a time holds a run, by a lease: `acquire` is one
 * conditional `UpdateItem` that succeeds only when nobody holds the run or their lease has run out, and every `save`
 * renews it only while this process still holds it. Two processes started on the same run: the second is refused
 * with `BACKFILL_LEASE_HELD`; one that lapsed (stalled past its lease) and was taken over stops at its next save with
 * `BACKFILL_LEASE_LOST`.
 *
 * @example
 * const progress = new DynamoDbBackfillProgress(client, 'alma-cache-stg-alma-guard');
 * const state = await progress.acquire('semester', owner, { source: 'file:3f2a…' });
 * await progress.save('semester', owner, { position: state.position + 50, counts: { queued: 50 } });
 * await progress.release('semester', owner, { finished: true });
 */
export class DynamoDbBackfillProgress {
  private readonly leaseSeconds: number;
  private readonly now: () => number;

  public constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoDbBackfillProgressOptions = {},
  ) {
    this.leaseSeconds = options.leaseSeconds ?? 60;
    this.now = options.now ?? Date.now;
  }

  /** The run's state, or undefined when it never ran (or its item expired). */
  public async read(run: string): Promise<BackfillRunState | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: this.key(run), ConsistentRead: true }));
    return Item === undefined ? undefined : stateOf(run, Item);
  }

  /**
   * Takes the run for `owner` and answers where it stands: a new run (or `restart`) at position 0, else where it
   * stopped. A finished run is answered as it is (its `finishedAt` set), still leased to `owner` until released.
   *
   * @throws BackfillProgressError `BACKFILL_LEASE_HELD` (another process holds it), `BACKFILL_SOURCE_CHANGED` (the
   *   run was started on another list and `restart` was not asked), `BACKFILL_RUN_NAME`
   */
  public async acquire(run: string, owner: string, start: { readonly source: string; readonly restart?: boolean }): Promise<BackfillRunState> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: this.key(run), ConsistentRead: true }));
    const current = Item === undefined ? undefined : stateOf(run, Item);
    // Held by someone else first: that is what the operator must know, whatever list they hold it on.
    if (Item !== undefined && Item[P.owner] !== undefined && Item[P.owner] !== owner && Number(Item[P.leaseUntil]) >= Math.floor(this.now() / 1000)) {
      throw heldError(run, Item);
    }
    if (current !== undefined && !start.restart && current.source !== start.source) {
      throw new BackfillProgressError(
        'BACKFILL_SOURCE_CHANGED',
        `backfill run "${run}" was started on another list (${current.source}, now ${start.source}): resume it with the same list, ` +
          'start it again from the top with --restart, or give this list another --run name',
      );
    }
    const nowMs = this.now();
    const nowSeconds = Math.floor(nowMs / 1000);
    const fresh = current === undefined || start.restart === true;
    const names: Record<string, string> = {
      '#owner': P.owner,
      '#until': P.leaseUntil,
      '#updated': P.updatedAt,
      '#expires': EXPIRES_AT,
      '#source': P.source,
    };
    const values: Record<string, unknown> = {
      ':me': owner,
      ':now': nowSeconds,
      ':until': nowSeconds + this.leaseSeconds,
      ':at': new Date(nowMs).toISOString(),
      ':expires': nowSeconds + KEEP_SECONDS,
      ':source': start.source,
    };
    let update = 'SET #owner = :me, #until = :until, #updated = :at, #expires = :expires';
    // Resuming: only the list it was started on (a concurrent restart on another list makes this fail, not mix).
    let condition = `(attribute_not_exists(#owner) OR #until < :now OR #owner = :me) AND (attribute_not_exists(${GUARD_KEY}) OR #source = :source)`;
    if (fresh) {
      Object.assign(names, { '#position': P.position, '#counts': P.counts, '#started': P.startedAt, '#finished': P.finishedAt, '#total': P.total });
      Object.assign(values, { ':zero': 0, ':none': {} });
      update += ', #position = :zero, #counts = :none, #source = :source, #started = :at REMOVE #finished, #total';
      condition = '(attribute_not_exists(#owner) OR #until < :now OR #owner = :me)';
    }
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(run),
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return stateOf(run, Attributes ?? {});
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const holder = await this.client.send(new GetCommand({ TableName: this.tableName, Key: this.key(run), ConsistentRead: true }));
      throw heldError(run, holder.Item ?? {});
    }
  }

  /**
   * Records the position (and optionally the list's length and the counts) and renews the lease: one conditional
   * `UpdateItem`, only while `owner` holds the run.
   *
   * @throws BackfillProgressError `BACKFILL_LEASE_LOST` when another process has taken the run over
   */
  public async save(
    run: string,
    owner: string,
    progress: { readonly position: number; readonly total?: number; readonly counts?: Readonly<Record<string, number>> },
  ): Promise<void> {
    const nowMs = this.now();
    const nowSeconds = Math.floor(nowMs / 1000);
    const names: Record<string, string> = {
      '#owner': P.owner,
      '#until': P.leaseUntil,
      '#updated': P.updatedAt,
      '#expires': EXPIRES_AT,
      '#position': P.position,
    };
    const values: Record<string, unknown> = {
      ':me': owner,
      ':until': nowSeconds + this.leaseSeconds,
      ':at': new Date(nowMs).toISOString(),
      ':expires': nowSeconds + KEEP_SECONDS,
      ':position': progress.position,
    };
    let update = 'SET #until = :until, #updated = :at, #expires = :expires, #position = :position';
    if (progress.total !== undefined) {
      names['#total'] = P.total;
      values[':total'] = progress.total;
      update += ', #total = :total';
    }
    if (progress.counts !== undefined) {
      names['#counts'] = P.counts;
      values[':counts'] = { ...progress.counts };
      update += ', #counts = :counts';
    }
    await this.asOwner(run, owner, update, names, values);
  }

  /**
   * Gives the run up so that another process may take it at once; with `finished`, records that the list is done.
   *
   * @throws BackfillProgressError `BACKFILL_LEASE_LOST` when another process has taken the run over
   */
  public async release(run: string, owner: string, end: { readonly finished: boolean }): Promise<void> {
    const nowMs = this.now();
    const names: Record<string, string> = { '#owner': P.owner, '#until': P.leaseUntil, '#updated': P.updatedAt };
    const values: Record<string, unknown> = { ':me': owner, ':at': new Date(nowMs).toISOString() };
    let update = 'SET #updated = :at';
    if (end.finished) {
      names['#finished'] = P.finishedAt;
      update += ', #finished = :at';
    }
    await this.asOwner(run, owner, `${update} REMOVE #owner, #until`, names, values);
  }

  private async asOwner(run: string, owner: string, update: string, names: Record<string, string>, values: Record<string, unknown>): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(run),
          UpdateExpression: update,
          ConditionExpression: '#owner = :me',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ...values, ':me': owner },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      throw new BackfillProgressError(
        'BACKFILL_LEASE_LOST',
        `backfill run "${run}" is no longer held by this process (its lease ran out and another process took it over): stopping`,
      );
    }
  }

  private key(run: string): Record<string, string> {
    if (!RUN_NAME.test(run)) {
      throw new BackfillProgressError(
        'BACKFILL_RUN_NAME',
        'a backfill run name is 1 to 64 of a-z, 0-9, ".", "_", "-", starting with a letter or digit',
      );
    }
    return { [GUARD_KEY]: `backfill/${run}` };
  }
}

const heldError = (run: string, item: Record<string, unknown>): BackfillProgressError => {
  const until = item[P.leaseUntil];
  return new BackfillProgressError(
    'BACKFILL_LEASE_HELD',
    `backfill run "${run}" is being run by another process (${String(item[P.owner] ?? 'unknown')}) until ` +
      `${typeof until === 'number' ? new Date(until * 1000).toISOString() : 'its lease runs out'}: wait for it, or stop it first`,
  );
};

const stateOf = (run: string, item: Record<string, unknown>): BackfillRunState => {
  const counts = item[P.counts];
  const total = item[P.total];
  const finishedAt = item[P.finishedAt];
  const position = item[P.position];
  return {
    run,
    position: typeof position === 'number' ? position : 0,
    ...(typeof total === 'number' ? { total } : {}),
    source: String(item[P.source] ?? ''),
    counts:
      typeof counts === 'object' && counts !== null
        ? Object.fromEntries(Object.entries(counts).filter((entry): entry is [string, number] => typeof entry[1] === 'number'))
        : {},
    startedAt: String(item[P.startedAt] ?? ''),
    updatedAt: String(item[P.updatedAt] ?? ''),
    ...(typeof finishedAt === 'string' ? { finishedAt } : {}),
  };
};

import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

/** What one poll of a stream mapping did. */
export interface StreamDelivery {
  functionName: string;
  /** The table whose stream it was. */
  table: string;
  received: number;
  /** Records reported failed (or the whole batch, when the function threw): handed over again from the first. */
  failed: number;
  /** Records given up on after the mapping's retries, described on its on-failure destination. */
  gaveUp: number;
  error?: string;
}

export interface LocalStreamMappingOptions {
  functionName: string;
  streamArn: string;
  batchSize: number;
  /** Retries of a failed batch before giving up on it; negative: retry until the records expire (never, locally). */
  maximumRetryAttempts: number;
  /** Invokes the function with one batch, as Lambda would. */
  invoke(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse | undefined | void>;
  /** The mapping's on-failure destination: told which records it gave up on, after how many invocations. */
  giveUp(records: DynamoDBRecord[], invocations: number): Promise<void>;
}

/**
 * One DynamoDB stream event source mapping, played locally: each `poll` reads what the stream holds since the last
 * read and hands the function one batch, as Lambda does (`ReportBatchItemFailures`). The records before the first
 * one the function reports failed are done; from that record on, the batch is handed over again at the next poll
 * (with whatever arrived meanwhile behind it), and once the retries are spent those records go to `giveUp` and the
 * mapping moves on. A function that throws has failed the whole batch.
 *
 * Not modelled: bisecting a failed batch (the retry starts from the first failed record, or the whole batch when the
 * function threw), and the maximum record age (a local run lives minutes, not hours).
 *
 * @example
 * const mapping = new LocalStreamMapping(new TableStreamReader(streamArn), { functionName: 'publish-changes', streamArn, batchSize: 100, maximumRetryAttempts: 10, invoke, giveUp });
 * const delivery = await mapping.poll(); // undefined when the stream had nothing new
 */
export class LocalStreamMapping {
  private pending: DynamoDBRecord[] = [];
  private retries = 0;
  private turn: Promise<unknown> = Promise.resolve();

  public constructor(
    private readonly reader: { read(): Promise<DynamoDBRecord[]> },
    public readonly options: LocalStreamMappingOptions,
  ) {}

  /** The table's name, from the stream ARN (`…:table/<name>/stream/<label>`). */
  public get table(): string {
    return this.options.streamArn.replace(/^.*:table\/([^/]+)\/.*$/, '$1');
  }

  /** Records read but not yet done: owed a retry. */
  public get owed(): number {
    return this.pending.length;
  }

  /** One read and at most one batch. Polls never overlap, as Lambda runs one batch at a time per shard. */
  public poll(): Promise<StreamDelivery | undefined> {
    const next = this.turn.then(() => this.pollOnce());
    this.turn = next.catch(() => undefined);
    return next;
  }

  private async pollOnce(): Promise<StreamDelivery | undefined> {
    this.pending.push(...(await this.reader.read()));
    if (this.pending.length === 0) return undefined;
    const batch = this.pending.slice(0, this.options.batchSize);
    const delivery: StreamDelivery = { functionName: this.options.functionName, table: this.table, received: batch.length, failed: 0, gaveUp: 0 };
    let failedFrom = batch.length;
    try {
      const response = await this.options.invoke({ Records: batch });
      const failed = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
      // Lambda fails the whole batch when a reported identifier is none of its records.
      if (failed.size > 0)
        failedFrom = Math.max(
          0,
          batch.findIndex((record) => failed.has(record.dynamodb?.SequenceNumber ?? '')),
        );
    } catch (error) {
      failedFrom = 0;
      delivery.error = (error as Error).message;
    }
    this.pending.splice(0, failedFrom);
    delivery.failed = batch.length - failedFrom;
    if (delivery.failed === 0) {
      this.retries = 0;
      return delivery;
    }
    this.retries += 1;
    const { maximumRetryAttempts } = this.options;
    if (maximumRetryAttempts >= 0 && this.retries > maximumRetryAttempts) {
      const givenUp = this.pending.splice(0, delivery.failed);
      const invocations = this.retries;
      this.retries = 0;
      await this.options.giveUp(givenUp, invocations);
      delivery.gaveUp = givenUp.length;
    }
    return delivery;
  }
}

/**
 * A one-line account of a poll, for the dispatcher's log.
 *
 * @example
 * describeStreamDelivery(delivery); // 'alma-cache-stg-loans stream → publish-changes: 2 record(s), 0 failed'
 */
export const describeStreamDelivery = (delivery: StreamDelivery): string =>
  `${delivery.table} stream → ${delivery.functionName}: ${delivery.received} record(s), ${delivery.failed} failed` +
  `${delivery.gaveUp > 0 ? `, ${delivery.gaveUp} given up on (failure queue)` : ''}${delivery.error ? ` (${delivery.error})` : ''}`;

import { AsyncLocalStorage } from 'node:async_hooks';

/** Alma traffic caused by one piece of work. */
export interface AlmaTally {
  /** HTTP requests sent to Alma, retries included. */
  calls: number;
  /** Of those, the ones that repeated a failed attempt (429, 5xx, timeout). */
  retries: number;
}

export interface Measured<T> extends AlmaTally {
  readonly value: T;
  readonly ms: number;
}

const TALLY = Symbol.for('AlmaCallMeter.tally');

/**
 * Attributes Alma requests to the message that caused them, although a batch's messages run in parallel through
 * one client: each message's work runs in its own async context, and the client's per-attempt hooks count into it.
 * `AlmaHttpApi` asks for the API key before every attempt and calls `onRetry` before every retry, so wrapping
 * those two is enough; no request goes uncounted and none is counted twice.
 *
 * @example
 * const meter = new AlmaCallMeter();
 * const alma = new AlmaHttpApi({ baseUrl, apiKey: meter.countingApiKey(apiKey), onRetry: () => meter.retried() });
 * const { value, calls } = await meter.measure(() => refreshUser.execute('PAT0042X'));
 */
export class AlmaCallMeter {
  private readonly current = new AsyncLocalStorage<AlmaTally>();

  /** The API key provider to hand to the client: each ask is one request about to be sent. */
  public countingApiKey(apiKey: () => Promise<string>): () => Promise<string> {
    return () => {
      const tally = this.current.getStore();
      if (tally) tally.calls += 1;
      return apiKey();
    };
  }

  /** To call from the client's `onRetry`. */
  public retried(): void {
    const tally = this.current.getStore();
    if (tally) tally.retries += 1;
  }

  /** Runs `work`, counting the Alma requests it makes (whether it resolves or throws: see `tallyOf`). */
  public async measure<T>(work: () => Promise<T>): Promise<Measured<T>> {
    const tally: AlmaTally = { calls: 0, retries: 0 };
    const started = Date.now();
    try {
      const value = await this.current.run(tally, work);
      return { value, ...tally, ms: Date.now() - started };
    } catch (error) {
      // Carried on the error so the batch handler's failure line can say how much Alma was asked before it gave up.
      if (typeof error === 'object' && error !== null && Object.isExtensible(error)) {
        Object.defineProperty(error, TALLY, { value: { ...tally }, enumerable: false });
      }
      throw error;
    }
  }
}

/** The Alma traffic of a `measure` that threw, if the error came out of one. */
export const tallyOf = (error: unknown): AlmaTally | undefined =>
  typeof error === 'object' && error !== null ? (error as { [TALLY]?: AlmaTally })[TALLY] : undefined;

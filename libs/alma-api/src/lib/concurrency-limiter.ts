/**
 * At most `maxConcurrent` tasks run at once; the others wait in arrival order. One limiter is shared by every call
 * made through one `AlmaHttpApi`, so a Lambda container never has more Alma requests in flight than its ceiling.
 *
 * @example
 * const limiter = new ConcurrencyLimiter(4);
 * const replies = await Promise.all(urls.map((url) => limiter.run(() => fetch(url))));
 */
export class ConcurrencyLimiter {
  private running = 0;
  private readonly waiters: Array<() => void> = [];

  public constructor(public readonly maxConcurrent: number) {
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
      throw new RangeError(`maxConcurrent must be a whole number of at least 1, got ${maxConcurrent}`);
    }
  }

  /** Tasks running now. */
  public get active(): number {
    return this.running;
  }

  /** Tasks waiting for a slot. */
  public get queued(): number {
    return this.waiters.length;
  }

  /**
   * Runs `task` once a slot is free and frees the slot when it settles, whether it resolves or throws.
   *
   * @example
   * const body = await limiter.run(async () => (await fetch(url)).text());
   */
  public async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.running < this.maxConcurrent) {
      this.running += 1;
      return Promise.resolve();
    }
    // The releasing task hands its slot straight to the first waiter, so `running` never dips and a newcomer
    // cannot overtake the queue.
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.running -= 1;
  }
}

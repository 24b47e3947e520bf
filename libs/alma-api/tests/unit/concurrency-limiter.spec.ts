import { ConcurrencyLimiter } from '../../src/lib/concurrency-limiter';

describe('Class: ConcurrencyLimiter', () => {
  it('runs at most maxConcurrent tasks at once, the others in arrival order', async () => {
    // Prepare
    const limiter = new ConcurrencyLimiter(2);
    let running = 0;
    let highest = 0;
    const started: number[] = [];
    const task = (id: number) => async () => {
      started.push(id);
      running += 1;
      highest = Math.max(highest, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running -= 1;
      return id;
    };

    // Act
    const results = await Promise.all([1, 2, 3, 4, 5].map((id) => limiter.run(task(id))));

    // Assess
    expect(results).toEqual([1, 2, 3, 4, 5]);
    expect(started).toEqual([1, 2, 3, 4, 5]);
    expect(highest).toBe(2);
    expect([limiter.active, limiter.queued]).toEqual([0, 0]);
  });

  it('frees the slot when a task throws', async () => {
    // Prepare
    const limiter = new ConcurrencyLimiter(1);

    // Act
    const failed = limiter.run(async () => {
      throw new Error('boom');
    });
    const next = limiter.run(async () => 'ran');

    // Assess
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ran');
  });

  it('refuses a ceiling below 1', () => {
    // Act / Assess
    expect(() => new ConcurrencyLimiter(0)).toThrow(/at least 1/);
  });
});

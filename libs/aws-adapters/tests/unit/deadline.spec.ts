import { raceDeadline } from '../../src';

class TooLateError extends Error {}

describe('Function: raceDeadline', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it("answers with the work's result when it is in time, and leaves no timer behind", async () => {
    // Act
    const answer = await raceDeadline(Promise.resolve('patron'), 1_000, () => new TooLateError());

    // Assess
    expect(answer).toBe('patron');
    expect(jest.getTimerCount()).toBe(0);
  });

  it("fails with the expiry's error once the time has passed, whatever the work does later", async () => {
    // Prepare
    let finish: (value: string) => void = () => undefined;
    const slow = new Promise<string>((resolve) => (finish = resolve));
    const raced = raceDeadline(slow, 3_500, () => new TooLateError('3500 ms'));

    // Act
    jest.advanceTimersByTime(3_500);
    finish('late');

    // Assess
    await expect(raced).rejects.toThrow(new TooLateError('3500 ms'));
  });

  it("passes the work's own failure on as it is, before the deadline", async () => {
    // Act
    const raced = raceDeadline(Promise.reject(new Error('SNS down')), 1_000, () => new TooLateError());

    // Assess
    await expect(raced).rejects.toThrow('SNS down');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('fails at once for a deadline already passed', async () => {
    // Prepare
    const raced = raceDeadline(new Promise<string>(() => undefined), -20, () => new TooLateError('passed'));

    // Act
    jest.advanceTimersByTime(0);

    // Assess
    await expect(raced).rejects.toThrow('passed');
  });
});

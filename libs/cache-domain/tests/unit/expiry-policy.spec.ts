import { DEFAULT_EXPIRY_POLICY, QUEUE_RETENTION_SECONDS, readExpiryPolicy, resolveExpiryPolicy } from '../../src';
import { eventTimeProblem, FUTURE_EVENT_ALLOWANCE_SECONDS, MIN_TOMBSTONE_SECONDS, REPLAY_HORIZON_SECONDS } from '../../src/lib/shared/expiry-policy';

describe('Function: readExpiryPolicy', () => {
  it('finds nothing wrong with the defaults or with valid overrides', () => {
    expect(readExpiryPolicy({}).problems).toEqual([]);
    expect(readExpiryPolicy({ USER_REFRESH_WINDOW_SECONDS: '60', CACHE_TOMBSTONE_TTL_SECONDS: String(MIN_TOMBSTONE_SECONDS) }).problems).toEqual([]);
  });

  it('names every bad variable at once, the too-short tombstone included', () => {
    // Act
    const { problems } = readExpiryPolicy({ CACHE_USER_TTL_SECONDS: 'soon', ALMA_CLOCK_SKEW_SECONDS: '0', CACHE_TOMBSTONE_TTL_SECONDS: '172800' });

    // Assess
    expect(problems).toEqual([
      'CACHE_USER_TTL_SECONDS must be a positive whole number of seconds, got "soon"',
      'ALMA_CLOCK_SKEW_SECONDS must be a positive whole number of seconds, got "0"',
      expect.stringContaining(`CACHE_TOMBSTONE_TTL_SECONDS must be at least ${MIN_TOMBSTONE_SECONDS}`),
    ]);
  });

  it('gives the same messages resolveExpiryPolicy throws', () => {
    // Prepare
    const env = { CACHE_ITEM_TTL_SECONDS: '1.5' };

    // Act
    const act = () => resolveExpiryPolicy(env);

    // Assess
    expect(act).toThrow(readExpiryPolicy(env).problems.join('; '));
  });
});

describe('Function: resolveExpiryPolicy', () => {
  it('uses the defaults when nothing is set', () => {
    expect(resolveExpiryPolicy({})).toEqual(DEFAULT_EXPIRY_POLICY);
    expect(DEFAULT_EXPIRY_POLICY.refreshWindowSeconds).toBe(300);
  });

  it('takes overrides from the environment', () => {
    // Act
    const policy = resolveExpiryPolicy({ USER_REFRESH_WINDOW_SECONDS: '60', CACHE_TOMBSTONE_TTL_SECONDS: '2592000' });

    // Assess
    expect(policy).toEqual({ ...DEFAULT_EXPIRY_POLICY, refreshWindowSeconds: 60, tombstoneSeconds: 2_592_000 });
  });

  it.each(['0', '-5', '1.5', 'soon'])('refuses %s naming the variable', (value) => {
    expect(() => resolveExpiryPolicy({ CACHE_USER_TTL_SECONDS: value })).toThrow(
      `CACHE_USER_TTL_SECONDS must be a positive whole number of seconds, got "${value}"`,
    );
  });

  it.each(['172800', String(MIN_TOMBSTONE_SECONDS - 1)])('refuses a tombstone TTL of %s s, shorter than the replay horizon', (value) => {
    // Act
    const act = () => resolveExpiryPolicy({ CACHE_TOMBSTONE_TTL_SECONDS: value });

    // Assess
    expect(act).toThrow(
      `CACHE_TOMBSTONE_TTL_SECONDS must be at least ${MIN_TOMBSTONE_SECONDS} (the replay horizon of ${REPLAY_HORIZON_SECONDS} s plus 300 s for future times), got ${value}`,
    );
  });

  it('accepts a tombstone TTL of exactly the horizon plus the future allowance', () => {
    expect(resolveExpiryPolicy({ CACHE_TOMBSTONE_TTL_SECONDS: String(MIN_TOMBSTONE_SECONDS) }).tombstoneSeconds).toBe(MIN_TOMBSTONE_SECONDS);
  });

  it('derives the horizon from the queues: 14 days on a queue plus a week, every default tombstone outliving it', () => {
    expect(QUEUE_RETENTION_SECONDS).toBe(1_209_600);
    expect(REPLAY_HORIZON_SECONDS).toBe(21 * 24 * 3600);
    expect(FUTURE_EVENT_ALLOWANCE_SECONDS).toBe(300);
    expect(DEFAULT_EXPIRY_POLICY.tombstoneSeconds).toBeGreaterThanOrEqual(REPLAY_HORIZON_SECONDS + FUTURE_EVENT_ALLOWANCE_SECONDS);
  });

  it('keeps tombstones far shorter than items and longer than every retry horizon (6 h)', () => {
    expect(DEFAULT_EXPIRY_POLICY.tombstoneSeconds).toBeGreaterThan(6 * 3600);
    expect(DEFAULT_EXPIRY_POLICY.tombstoneSeconds).toBeLessThan(DEFAULT_EXPIRY_POLICY.itemSeconds);
    expect(DEFAULT_EXPIRY_POLICY.userSeconds).toBeLessThan(DEFAULT_EXPIRY_POLICY.itemSeconds);
  });
});

describe('Function: eventTimeProblem', () => {
  const now = new Date('2026-12-10T17:00:00.000Z');
  const at = (secondsAgo: number) => now.getTime() - secondsAgo * 1000;

  it.each([
    ['now', 0],
    ['exactly at the horizon', REPLAY_HORIZON_SECONDS],
    ['exactly at the future allowance', -FUTURE_EVENT_ALLOWANCE_SECONDS],
  ])('accepts an event dated %s', (_case, secondsAgo) => {
    expect(eventTimeProblem(at(secondsAgo), now)).toBeUndefined();
  });

  it('refuses an event a second older than the horizon, naming the time and why', () => {
    expect(eventTimeProblem(at(REPLAY_HORIZON_SECONDS + 1), now)).toBe(
      '"time" 2026-11-19T16:59:59.000Z is older than the replay horizon (21 days): its tombstone may be gone, so applying it could revive a removed record',
    );
  });

  it('refuses an event a second beyond the future allowance', () => {
    expect(eventTimeProblem(at(-FUTURE_EVENT_ALLOWANCE_SECONDS - 1), now)).toBe(
      '"time" 2026-12-10T17:05:01.000Z is more than 300 s in the future: it would pin the record against every later event',
    );
  });
});

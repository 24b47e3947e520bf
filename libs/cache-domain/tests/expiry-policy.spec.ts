import { DEFAULT_EXPIRY_POLICY, resolveExpiryPolicy } from '../src';

describe('Function: resolveExpiryPolicy', () => {
  it('uses the defaults when nothing is set', () => {
    expect(resolveExpiryPolicy({})).toEqual(DEFAULT_EXPIRY_POLICY);
    expect(DEFAULT_EXPIRY_POLICY.refreshWindowSeconds).toBe(300);
  });

  it('takes overrides from the environment', () => {
    // Act
    const policy = resolveExpiryPolicy({ USER_REFRESH_WINDOW_SECONDS: '60', CACHE_TOMBSTONE_TTL_SECONDS: '3600' });

    // Assess
    expect(policy).toEqual({ ...DEFAULT_EXPIRY_POLICY, refreshWindowSeconds: 60, tombstoneSeconds: 3600 });
  });

  it.each(['0', '-5', '1.5', 'soon'])('refuses %s naming the variable', (value) => {
    expect(() => resolveExpiryPolicy({ CACHE_USER_TTL_SECONDS: value })).toThrow(
      `CACHE_USER_TTL_SECONDS must be a positive whole number of seconds, got "${value}"`,
    );
  });

  it('keeps tombstones far shorter than items and longer than every retry horizon (6 h)', () => {
    expect(DEFAULT_EXPIRY_POLICY.tombstoneSeconds).toBeGreaterThan(6 * 3600);
    expect(DEFAULT_EXPIRY_POLICY.tombstoneSeconds).toBeLessThan(DEFAULT_EXPIRY_POLICY.itemSeconds);
    expect(DEFAULT_EXPIRY_POLICY.userSeconds).toBeLessThan(DEFAULT_EXPIRY_POLICY.itemSeconds);
  });
});

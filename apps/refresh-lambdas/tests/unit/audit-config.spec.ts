import { createHmac } from 'node:crypto';
import { ConfigurationError } from '@alma-cache/aws-adapters';
import { loadAuditConfig } from '../../src/audit-config';
import { auditPatronHash } from '../../src/audit-report';

const COMPLETE = {
  USER_CACHE_TABLE_NAME: 'u',
  LOAN_CACHE_TABLE_NAME: 'l',
  REQUEST_CACHE_TABLE_NAME: 'r',
  FEE_CACHE_TABLE_NAME: 'f',
  ALMA_API_BASE_URL: 'https://api-eu.hosted.exlibrisgroup.com',
  ALMA_API_KEY_NAME: '/alma-cache/stg/alma-api-key',
  ALMA_GUARD_TABLE_NAME: 'g',
  AUDIT_LOG_PEPPER_NAME: '/alma-cache/stg/query-log-pepper',
};

describe('Function: loadAuditConfig', () => {
  it('reads the refresh settings without a DLQ, and the audit defaults: 60 patrons, 300 s grace, repair on, 2 requests in flight', () => {
    // Act
    const config = loadAuditConfig(COMPLETE);

    // Assess
    expect(config.audit).toEqual({ sampleSize: 60, graceSeconds: 300, repair: true, logPepperName: '/alma-cache/stg/query-log-pepper' });
    expect(config.alma).toMatchObject({ maxConcurrentRequests: 2, callsPerSecond: 10, guardTable: 'g' });
    expect(config.tables).toEqual({ users: 'u', loans: 'l', requests: 'r', fees: 'f' });
  });

  it('takes the per-stage values', () => {
    // Act
    const config = loadAuditConfig({ ...COMPLETE, AUDIT_SAMPLE_SIZE: '200', AUDIT_GRACE_SECONDS: '0', AUDIT_REPAIR: 'false' });

    // Assess
    expect(config.audit).toMatchObject({ sampleSize: 200, graceSeconds: 0, repair: false });
  });

  it('names every missing or invalid variable at once', () => {
    // Act
    const act = () =>
      loadAuditConfig({
        ...COMPLETE,
        AUDIT_LOG_PEPPER_NAME: 'query-log-pepper',
        AUDIT_SAMPLE_SIZE: '5000',
        AUDIT_REPAIR: 'yes',
        ALMA_GUARD_TABLE_NAME: '',
      });

    // Assess
    expect(act).toThrow(ConfigurationError);
    expect(act).toThrow(/ALMA_GUARD_TABLE_NAME/);
    expect(act).toThrow(/AUDIT_SAMPLE_SIZE must be at most 2000, got 5000/);
    expect(act).toThrow(/AUDIT_REPAIR must be true or false, got "yes"/);
    expect(act).toThrow(/AUDIT_LOG_PEPPER_NAME must be an SSM parameter path/);
  });
});

describe('Function: auditPatronHash', () => {
  it("is the query API's log hash: HMAC-SHA256 of the cache key under the pepper, in hex, whatever the ASCII case", () => {
    // Assess
    const expected = createHmac('sha256', 'pepper-of-stg').update('pat0042x', 'utf8').digest('hex');
    expect(auditPatronHash('pepper-of-stg', 'PAT0042X')).toBe(expected);
    expect(auditPatronHash('pepper-of-stg', 'pat0042x')).toBe(expected);
    expect(auditPatronHash('another-pepper', 'PAT0042X')).not.toBe(expected);
  });
});

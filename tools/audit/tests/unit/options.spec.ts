import { AuditUsageError, parseAuditCli } from '../../options';
import { driftTable, summaryLines } from '../../report';
import { emptyTotals } from '@alma-cache/cache-domain';

describe('Function: parseAuditCli', () => {
  it('reads a patron audit, a sample, --repair and --local', () => {
    // Act
    const patrons = parseAuditCli(['--stage', 'stg', '--patron', 'PAT0042X', '--patron', 'PAT0001A']);
    const sample = parseAuditCli(['--stage', 'prod', '--sample', '60', '--repair', '--json', '--region', 'eu-central-1']);
    const local = parseAuditCli(['--stage', 'it-3f2a', '--local', '--sample', '5']);

    // Assess
    expect(patrons).toEqual({ stage: 'stg', target: { patrons: ['PAT0042X', 'PAT0001A'] }, repair: false, local: false, json: false });
    expect(sample).toEqual({ stage: 'prod', target: { sample: 60 }, repair: true, local: false, json: true, region: 'eu-central-1' });
    expect(local).toMatchObject({ stage: 'it-3f2a', target: { sample: 5 }, local: true, repair: false });
    expect(parseAuditCli(['--help'])).toBeUndefined();
  });

  it.each([
    [[], '--stage is required'],
    [['--stage', 'dev', '--sample', '5'], 'one of stg, prod'],
    [['--stage', 'Stg', '--local', '--sample', '5'], 'a lower-case name'],
    [['--stage', 'stg'], 'name the patrons'],
    [['--stage', 'stg', '--patron', 'P1', '--sample', '5'], 'cannot be combined'],
    [['--stage', 'stg', '--sample', '0'], 'from 1 to 2000'],
    [['--stage', 'stg', '--sample', '2001'], 'from 1 to 2000'],
    [['--stage', 'stg', '--sample', '5', '--repiar'], "Unknown option '--repiar'"],
  ])('refuses %j: %s', (argv, message) => {
    // Act / Assess: a typo never runs, let alone repairs
    expect(() => parseAuditCli(argv)).toThrow(AuditUsageError);
    expect(() => parseAuditCli(argv)).toThrow(message);
  });
});

describe('Function: driftTable and summaryLines', () => {
  it('lays out one row per record and the totals by kind and field', () => {
    // Prepare
    const audit = {
      userKey: 'pat0042x',
      result: 'drifted' as const,
      inFlight: 0,
      compared: 3,
      repaired: false,
      drifts: [
        { kind: 'loan' as const, itemId: '7391', drift: 'different' as const, reason: 'fields' as const, fields: ['due_date', 'loan_status'] },
        { kind: 'request' as const, itemId: '88123', drift: 'extra' as const, reason: 'not-listed' as const },
      ],
    };
    const totals = {
      ...emptyTotals(),
      audited: 1,
      drifted: 1,
      extra: { loan: 0, request: 1, fee: 0 },
      different: { loan: { due_date: 1, loan_status: 1 }, request: {}, fee: {} },
    };

    // Act
    const table = driftTable([audit]);
    const summary = summaryLines({ totals, drifted: [audit], almaCalls: 3, ms: 812 }, 'stg', false);

    // Assess
    expect(table).toEqual([
      'patron    kind     record  drift      reason / fields',
      'pat0042x  loan     7391    different  due_date, loan_status',
      'pat0042x  request  88123   extra      not-listed',
    ]);
    expect(summary).toEqual([
      'stg: audited 1 patron, 1 drifted, 0 repaired, 0 in flight (not counted); 3 Alma calls in 0.8 s',
      '  records extra: request 1',
      '  records different: loan.due_date 1, loan.loan_status 1',
      '  nothing was written: run again with --repair to write the fix',
    ]);
    expect(driftTable([])).toEqual([]);
  });
});

import { BackfillInputError, parsePatronIds } from '../../ids';
import { parseCli, parseShare } from '../../options';
import { describePlan, paceOf } from '../../plan';

const messageOf = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    return error instanceof BackfillInputError ? error.message : `not a BackfillInputError: ${String(error)}`;
  }
  throw new Error('expected a BackfillInputError');
};

describe('Function: parsePatronIds', () => {
  it('reads one id per line, drops Windows line ends and blank lines, and keeps each patron once', () => {
    // Act
    const list = parsePatronIds('PAT0001\r\nPAT0002\n\nPAT 0003\npat0001\n');

    // Assess
    expect(list.ids).toEqual(['PAT0001', 'PAT0002', 'PAT 0003']);
    expect(list.duplicates).toBe(1);
    expect(list.source).toMatch(/^file:[0-9a-f]{16}$/);
  });

  it('refuses every malformed line by number and reason, without echoing the line', () => {
    // Act
    const message = messageOf(() => parsePatronIds('PAT0001\n../etc/passwd\nPAT0002\n PADDED\n'));

    // Assess
    expect(message).toContain('2 line(s) are not patron ids; nothing was sent');
    expect(message).toContain('line 2: holds a path separator');
    expect(message).toMatch(/line 4: .*whitespace/);
    expect(message).not.toContain('passwd');
  });

  it('names at most 20 bad lines and counts the rest, and refuses a file naming nobody', () => {
    // Act
    const many = messageOf(() => parsePatronIds(Array.from({ length: 25 }, () => 'a/b').join('\n')));
    const empty = messageOf(() => parsePatronIds('\n\r\n'));

    // Assess
    expect(many).toContain('line 20:');
    expect(many).not.toContain('line 21:');
    expect(many).toContain('… and 5 more');
    expect(empty).toContain('names no patron');
  });

  it('gives the same list the same fingerprint, and another list another', () => {
    // Act
    const [a, b, c] = [parsePatronIds('A1\nB2\n'), parsePatronIds('A1\r\nB2'), parsePatronIds('A1\nB3\n')];

    // Assess
    expect(a.source).toBe(b.source);
    expect(a.source).not.toBe(c.source);
  });
});

describe('Function: parseCli', () => {
  it('is a dry run on stg at half the refresh share by default, the budget from the stage variable', () => {
    // Act
    const options = parseCli(['--file', 'ids.txt'], { ALMA_CALLS_PER_SECOND_STG: '20' });

    // Assess
    expect(options).toMatchObject({
      stage: 'stg',
      source: { kind: 'file', path: 'ids.txt' },
      share: 0.5,
      budget: 20,
      callsPerPatron: 3,
      dryRun: true,
    });
    expect(options.almaKeyName).toBe('/alma-cache/stg/alma-api-key');
  });

  it('runs only with --yes and without --dry-run', () => {
    // Act
    const runs = [['--yes'], ['--yes', '--dry-run'], []].map((flags) => parseCli(['--from-alma', ...flags], {}).dryRun);

    // Assess
    expect(runs).toEqual([false, true, true]);
  });

  it('refuses both or neither list, an unknown stage against AWS, a bad run name, and unknown flags', () => {
    // Act
    const messages = [
      ['--file', 'a', '--from-alma'],
      [],
      ['--from-alma', '--stage', 'prd'],
      ['--from-alma', '--run', '../x'],
      ['--from-alma', '--budget', '1'],
      ['--from-alma', '--shares', '1'],
    ].map((argv) => messageOf(() => parseCli(argv, {})));

    // Assess
    expect(messages[0]).toContain('either --file');
    expect(messages[1]).toContain('either --file');
    expect(messages[2]).toContain('the stages are stg and prod');
    expect(messages[3]).toContain('--run takes');
    expect(messages[4]).toContain('--budget takes a whole number of at least 2');
    expect(messages[5]).toContain("Unknown option '--shares'");
  });

  it('takes any lower-case stage against an emulator', () => {
    // Act
    const options = parseCli(['--from-alma', '--stage', 'itest1'], { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' });

    // Assess
    expect(options.stage).toBe('itest1');
  });
});

describe('Function: parseShare', () => {
  it('reads a decimal, a fraction or a percentage, above 0 and at most 1', () => {
    // Act
    const shares = ['0.5', '1/3', '25%', '1'].map(parseShare);

    // Assess
    expect(shares.map((share) => Number(share.toFixed(4)))).toEqual([0.5, 0.3333, 0.25, 1]);
    for (const bad of ['0', '3/2', '150%', 'half', '-0.5']) expect(messageOf(() => parseShare(bad))).toContain('--share takes');
  });
});

describe('Function: describePlan', () => {
  it('prints patrons, Alma calls, hours at the pace and the share of the daily limit', () => {
    // Prepare: 10 calls/s budget → refresh share 3 → half of it 1.5 calls/s → 0.5 patrons/s
    const pace = paceOf(10, 0.5, 3);

    // Act
    const lines = describePlan({
      run: 'semester',
      stage: 'prod',
      from: 'ids.txt',
      total: 10_000,
      position: 0,
      finished: false,
      listPages: 0,
      pace,
      dailyLimit: 1_000_000,
    });

    // Assess
    expect(pace).toMatchObject({ refreshShare: 3, callsPerSecond: 1.5, patronsPerSecond: 0.5 });
    expect(lines.join('\n')).toContain('backfill "semester" on prod: 10,000 patrons from ids.txt');
    expect(lines.join('\n')).toContain('Alma calls: at most 30,000 (3 per patron rebuilt)');
    expect(lines.join('\n')).toContain('time: 5.6 h at that pace (5.56 hours)');
    expect(lines.join('\n')).toContain('129,600 calls/day at that pace = 13.0 % of it; the whole backfill = 3.0 % of one day');
  });

  it('counts what is left of a resumed run, and the list pages of --from-alma', () => {
    // Act
    const lines = describePlan({
      run: 'alma-users',
      stage: 'stg',
      from: "Alma's users list",
      total: 500,
      position: 200,
      finished: false,
      listPages: 3,
      pace: paceOf(200, 0.5, 3),
    });

    // Assess: 300 × 3 + 3 pages; refresh share of 200 is 60, half is 30 calls/s → 10 patrons/s → 30 s
    expect(lines[0]).toContain('(resuming at 200: 300 to go)');
    expect(lines[1]).toContain('at most 903 (3 per patron rebuilt, + 3 list pages of 100)');
    expect(lines[3]).toContain('time: 0.5 min');
  });
});

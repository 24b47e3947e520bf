import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const WORKSPACE = join(__dirname, '..', '..', '..', '..');

// `npm run load` as a person runs it, small: its own local stack (emulators, fake Alma, HTTP port on 127.0.0.1), 20
// webhooks/s for 3 s over 30 patrons (6 unknown), readers at 5/s. Most of the time is the stack's start (build and
// osls packaging, about a minute on this machine), not the load.
describe('npm run load -- --rate 20 --duration 3', () => {
  const out = mkdtempSync(join(tmpdir(), 'alma-cache-load-'));
  let status: number | null;
  let stdout: string;
  let report: any;

  beforeAll(() => {
    const result = spawnSync(
      process.execPath,
      [
        join(WORKSPACE, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
        '--tsconfig',
        'tsconfig.base.json',
        'tools/load/main.ts',
        ...['--rate', '20', '--duration', '3', '--patrons', '30', '--readers', '5', '--drain-timeout', '120', '--out', out, '--no-latest'],
      ],
      { cwd: WORKSPACE, env: { ...process.env, NX_NO_CLOUD: 'true', NX_DAEMON: 'false' }, encoding: 'utf8', timeout: 400_000 },
    );
    status = result.status;
    stdout = `${result.stdout}\n${result.stderr.slice(-3000)}`;
    report = existsSync(join(out, 'load.json')) ? JSON.parse(readFileSync(join(out, 'load.json'), 'utf8')) : undefined;
  }, 410_000);

  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('passes every check and says so, exit code 0', () => {
    expect({ status, tail: stdout.slice(-2500) }).toMatchObject({ status: 0 });
    expect(stdout).toContain('20/s: every check passed');
    expect(stdout).toMatch(/\| 20 \| [\d.]+ \| \d+ \| \d+ \| \d+ \| \d+ \| \d+ \| (met|missed) \| \d+ \| \d+ \| 0 \| 0 \| 0 \|/);
  });

  it('loses nothing, writes nothing wrong, parks nothing, and refreshes each unknown patron at most once', () => {
    const [result] = report.results;
    expect(result.sent.neverAnswered).toBe(0);
    expect(result.check).toEqual(expect.objectContaining({ lost: 0, wrong: 0 }));
    expect(result.check.patronsChecked).toBeGreaterThanOrEqual(24);
    expect(result.parked.map((queue: { count: number }) => queue.count)).toEqual(result.parked.map(() => 0));
    expect(result.parked.map((queue: { queue: string }) => queue.queue)).toEqual(
      expect.arrayContaining(['alma-cache-stg-users-dlq', 'alma-cache-stg-loan-updated-dlq']),
    );
    expect(result.refresh.patronsRefreshedTwice).toBe(0);
    expect(result.refresh.refreshedNotUnknown).toBe(0);
    expect(result.refresh.patronsRefreshed).toBeLessThanOrEqual(result.refresh.unknownWithWebhook + result.refresh.unknownOnlyRead);
    expect(result.refresh.usersQueueMessages).toBe(result.refresh.patronsRefreshed + result.refresh.redeliveries);
    expect(result.refresh.maxRebuildsOfOnePatron).toBeLessThanOrEqual(1);
  });

  it('keeps Alma within the stage budget in every sliding second, and measured the latency to the cache and to the notifications', () => {
    const [result] = report.results;
    expect(result.alma.budget).toBe(10);
    expect(result.alma.peakPerSlidingSecond).toBeLessThanOrEqual(result.alma.budget);
    // Every event was answered 200 and written: one latency to the cache per event sent (about 60 at 20/s for 3 s).
    expect(result.notWritten).toBe(0);
    expect([result.cacheStages.inQueue.n, result.cacheStages.inFunction.n]).toEqual([result.latency.n, result.latency.n]);
    expect(result.latency.n).toBe(result.sent.events);
    expect(result.sent.events).toBeGreaterThanOrEqual(50);
    expect(result.latency.p50).toBeLessThanOrEqual(result.latency.p99);
    expect(result.notification.n).toBeGreaterThan(30);
    expect(result.drain.complete).toBe(true);
  });

  it('writes the report: tables, numbers and the chart', () => {
    expect(readFileSync(join(out, 'load.md'), 'utf8')).toContain('| rate (webhooks/s) |');
    expect(readFileSync(join(out, 'load.svg'), 'utf8')).toMatch(/^<svg [^>]+>[\s\S]*<polyline[\s\S]*<\/svg>\n$/);
  });
});

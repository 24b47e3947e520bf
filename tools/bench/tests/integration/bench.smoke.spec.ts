import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FigureResult } from '../../figure';

const WORKSPACE = join(__dirname, '..', '..', '..', '..');
const OUT = join('tmp', 'bench', `smoke-${process.pid}`);

const runQuickBench = () =>
  new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(
      join(WORKSPACE, 'node_modules', '.bin', 'tsx'),
      ['--tsconfig', 'tsconfig.base.json', 'tools/bench/run.ts', '--quick', '--out', OUT],
      {
        cwd: WORKSPACE,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => resolve({ code, output }));
  });

// A smoke test only: the quick mode's numbers come from tiny samples on whatever machine CI has, so nothing here
// compares them with a goal or a time. It checks that every figure of issues 6, 14 and 21 was measured and reported.
describe('bench quick mode', () => {
  let run: { code: number | null; output: string };

  // Quick mode takes well under a minute on an idle machine; CI runners and a busy `npm test` are slower.
  beforeAll(async () => {
    run = await runQuickBench();
  }, 300_000);

  afterAll(() => rm(join(WORKSPACE, OUT), { recursive: true, force: true }));

  it('exits 0 and prints one [bench] line per figure', () => {
    // Assess
    expect({ code: run.code, tail: run.output.slice(-3000) }).toEqual({ code: 0, tail: expect.any(String) });
    for (const figure of [
      'DynamoDB cost per event',
      'handler throughput',
      'cold start',
      'bundle size',
      'query API cache hit',
      'tracing cost',
      'init cost',
      'refresh',
    ]) {
      expect(run.output).toContain(`[bench] ${figure}`);
    }
  });

  it('writes the Markdown table, the chart and every figure with finite numbers', () => {
    // Prepare
    const dir = join(WORKSPACE, OUT);
    const { figures } = JSON.parse(readFileSync(join(dir, 'bench.json'), 'utf8')) as { figures: FigureResult[] };
    const markdown = readFileSync(join(dir, 'bench.md'), 'utf8');

    // Assess
    expect(figures.map((figure) => figure.key).sort()).toEqual([
      'bundle-size',
      'cold-start',
      'event-cost',
      'init-cost',
      'query-latency',
      'refresh',
      'throughput',
      'tracing',
    ]);
    for (const figure of figures) {
      expect(figure.rows.length).toBeGreaterThan(0);
      expect(figure.panels.length).toBeGreaterThan(0);
      for (const row of figure.rows) {
        expect(row.values.length).toBeGreaterThan(0);
        expect(row.values.every((value) => Number.isFinite(value))).toBe(true);
        expect(markdown).toContain(row.subject);
      }
      expect(markdown).toContain(figure.summary);
    }
    expect(existsSync(join(dir, 'bench.svg'))).toBe(true);
    expect(readFileSync(join(dir, 'bench.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
  });
});

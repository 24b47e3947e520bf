import type { CacheTableNames } from '@alma-cache/aws-adapters';
import type { BenchApp, BuiltFunction } from './bundles';
import { type BenchRow, type ChartBar, type FigureResult } from './figure';
import { APP_LABEL, functionEnv } from './function-env';
import { type Probe, probe } from './cold-start';
import { fmt, spread } from './stats';

/** Two ways of starting: `a` is the subject, `b` what it is compared with; the pair differs in one thing only. */
interface InitPair {
  readonly subject: string;
  readonly a: { bundle: string; env: Record<string, string> };
  readonly b: { bundle: string; env: Record<string, string> };
  readonly floor: string;
  readonly label: string;
}

/**
 * What two choices cost at init, each against the same start without it, in paired fresh-process starts (alternating
 * order): `--enable-source-maps` (serverless.yml sets `NODE_OPTIONS=--enable-source-maps` for every function; Node then
 * reads and parses index.js.map when it loads index.js) for one function per app, and the inversify container (the
 * cache-update floor built and resolved through a Container with as many bindings as sns-lambdas' composition root,
 * baseline/sns-container.ts, against the same floor without it). No goal: the issue asks what each costs.
 */
export const measureInitCost = async (
  functions: Record<BenchApp, BuiltFunction[]>,
  floors: { sns: BuiltFunction; snsContainer: BuiltFunction },
  tables: Required<CacheTableNames>,
  awsEnv: Record<string, string>,
  runs: number,
): Promise<FigureResult> => {
  const apps = Object.keys(functions) as BenchApp[];
  const pairs: InitPair[] = apps.map((app) => {
    const fn = functions[app][0];
    const env = functionEnv(app, tables, awsEnv);
    return {
      subject: `${app}/${fn.name}: NODE_OPTIONS=--enable-source-maps ÷ without`,
      a: { bundle: fn.indexJs, env },
      b: { bundle: fn.indexJs, env: { ...env, NODE_OPTIONS: '' } },
      floor: 'the same bundle started without --enable-source-maps, paired starts: the difference is what source maps cost at init',
      label: `${APP_LABEL[app]}/${fn.name} source maps`,
    };
  });
  const snsEnv = functionEnv('sns-lambdas', tables, awsEnv);
  pairs.push({
    subject: 'inversify: the sns floor built through a Container (14 bindings, resolved at module scope) ÷ the same floor without',
    a: { bundle: floors.snsContainer.indexJs, env: snsEnv },
    b: { bundle: floors.sns.indexJs, env: snsEnv },
    floor: 'baseline/sns-baseline.ts, the same clients, logger and metrics built by hand, paired starts: the difference is the container',
    label: 'inversify container',
  });

  for (const pair of pairs) {
    await probe(pair.a.bundle, pair.a.env);
    await probe(pair.b.bundle, pair.b.env);
  }
  const probes = new Map<InitPair, { a: Probe; b: Probe }[]>(pairs.map((pair) => [pair, []]));
  for (let round = 0; round < runs; round += 1) {
    for (const pair of pairs) {
      const bFirst = round % 2 === 0;
      const first = await (bFirst ? probe(pair.b.bundle, pair.b.env) : probe(pair.a.bundle, pair.a.env));
      const second = await (bFirst ? probe(pair.a.bundle, pair.a.env) : probe(pair.b.bundle, pair.b.env));
      probes.get(pair)?.push(bFirst ? { b: first, a: second } : { a: first, b: second });
    }
  }

  const rows: BenchRow[] = [];
  const bars: ChartBar[] = [];
  for (const pair of pairs) {
    const own = probes.get(pair) ?? [];
    const ratio = spread(own.map((p) => p.a.importMs / p.b.importMs));
    const added = spread(own.map((p) => p.a.importMs - p.b.importMs));
    const fastest = Math.min(...own.map((p) => p.a.importMs)) - Math.min(...own.map((p) => p.b.importMs));
    rows.push({
      figure: 'Init cost',
      subject: pair.subject,
      measured:
        `${fmt(ratio.median)}× (min ${fmt(ratio.min)}, max ${fmt(ratio.max)}); +${fmt(added.median, 1)} ms median of pairs ` +
        `(${fmt(added.min, 1)} to ${fmt(added.max, 1)}), fastest − fastest ${fmt(fastest, 1)} ms`,
      goal: '— (information)',
      floor: pair.floor,
      original: '',
      verdict: 'info',
      values: [ratio.min, ratio.median, ratio.max, added.median, fastest],
    });
    bars.push({ label: pair.label, spread: ratio });
  }
  const maps = rows.slice(0, -1).map((row) => row.values[3]);
  const container = rows[rows.length - 1];
  return {
    key: 'init-cost',
    summary:
      `[bench] init cost (${runs} paired cold starts each): --enable-source-maps +${fmt(Math.min(...maps), 1)} to +${fmt(Math.max(...maps), 1)} ms ` +
      `across ${maps.length} functions; inversify container ${fmt(container.values[1])}x the hand-built floor (+${fmt(container.values[3], 1)} ms) info`,
    rows,
    panels: [{ title: 'Init cost: with ÷ without (source maps, inversify)', unit: '× without', bars }],
  };
};

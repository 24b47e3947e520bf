import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { findSourceMap } from 'node:module';
import { pathToFileURL } from 'node:url';

/** The Alma client's sources. */
export const ALMA_CLIENT_SOURCES = /libs\/alma-api\/src\//;

/**
 * The sources of the query API's miss path: the Alma client (libs/alma-api), the rebuild (the domain's refresh slice,
 * patron-miss.ts) and the Alma guard a miss goes through (budget, unknown patrons). A cache hit needs none of them.
 */
export const MISS_PATH_SOURCES: readonly RegExp[] = [
  ALMA_CLIENT_SOURCES,
  /libs\/cache-domain\/src\/lib\/refresh\//,
  /libs\/cache-domain\/src\/lib\/query\/patron-miss\.ts$/,
  /libs\/aws-adapters\/src\/lib\/dynamodb-alma-guard\.ts$/,
];

/**
 * What of the miss path a query-API container ran: at init (its require), and during the hits after it. An entry is
 * `module <file>` for a module's evaluation (its esbuild wrapper ran, or one of its classes was defined) or
 * `<file>:<line> <name>` for a function that ran (a constructor, a method).
 */
export interface MissPathUse {
  /** Every miss-path module evaluated or function run while index.js was required (composition root included). */
  readonly atInit: readonly string[];
  /** The same for the hits that followed. */
  readonly duringHits: readonly string[];
  /** Bytes of index.js generated from miss-path sources (parsed at every cold start whether or not they run). */
  readonly bundleBytes: number;
  readonly totalBytes: number;
}

const isMissPath = (source: string) => MISS_PATH_SOURCES.some((pattern) => pattern.test(source));
const shortName = (source: string) => source.replace(/^.*\/libs\//, 'libs/');

/** Line starts of a file, to turn V8's character offsets into the (line, column) a source map is keyed by. */
const lineStarts = (text: string): number[] => {
  const starts = [0];
  for (let i = 0; i < text.length; i += 1) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
};

const position = (starts: readonly number[], offset: number): { line: number; column: number } => {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (starts[middle] <= offset) low = middle;
    else high = middle - 1;
  }
  return { line: low, column: offset - starts[low] };
};

/**
 * Watches one bundle with V8's precise coverage (call counts, per function) through an in-process inspector session:
 * start it before the bundle is required, `takeInit()` after the require, `takeHits()` after the hits. Each take returns
 * the miss-path functions that ran since the previous one, mapped to their sources by the bundle's own source map
 * (the process must run with --enable-source-maps, as the functions do). Stop it before timing anything.
 */
export const watchMissPath = async (bundle: string) => {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
  const url = pathToFileURL(bundle).href;
  // The bundle's text and line starts, read once: every take and the byte count map offsets through them.
  let parsed: { text: string; starts: number[] } | undefined;
  const bundleText = () => {
    if (!parsed) {
      const text = readFileSync(bundle, 'utf8');
      parsed = { text, starts: lineStarts(text) };
    }
    return parsed;
  };
  const ran = async (): Promise<string[]> => {
    const { result } = await session.post('Profiler.takePreciseCoverage');
    const script = result.find((entry) => entry.url === url || entry.url === bundle);
    const map = findSourceMap(bundle);
    if (!script || !map) return [];
    const { text, starts } = bundleText();
    const names = new Set<string>();
    for (const fn of script.functions) {
      const range = fn.ranges[0];
      if (!range || range.count === 0) continue;
      const { line, column } = position(starts, range.startOffset);
      const entry = map.findEntry(line, column) as { originalSource?: string; originalLine?: number; name?: string };
      if (!entry.originalSource || !isMissPath(entry.originalSource)) continue;
      const source = shortName(entry.originalSource);
      // A module's evaluation: esbuild's lazy-module wrapper (an anonymous strict-mode arrow) or a class definition
      // (`keepNames` names classes in a static block). Anything else is a function of the miss path that ran.
      const evaluation =
        fn.functionName === '<static_initializer>' || (fn.functionName === '' && text.startsWith('()=>{"use strict"', range.startOffset));
      names.add(evaluation ? `module ${source}` : `${source}:${(entry.originalLine ?? 0) + 1} ${entry.name ?? (fn.functionName || 'anonymous')}`);
    }
    return [...names].sort();
  };
  return {
    takeInit: ran,
    takeHits: ran,
    /** Stops coverage and counts the bundle's miss-path bytes; call once, after the last take. */
    finish: async (): Promise<Pick<MissPathUse, 'bundleBytes' | 'totalBytes'>> => {
      await session.post('Profiler.stopPreciseCoverage');
      await session.post('Profiler.disable');
      session.disconnect();
      const map = findSourceMap(bundle);
      const { text, starts } = bundleText();
      if (!map) return { bundleBytes: Number.NaN, totalBytes: text.length };
      // Every 16th character is enough to attribute a minified file's bytes to their sources.
      let sampled = 0;
      for (let offset = 0; offset < text.length; offset += 16) {
        const { line, column } = position(starts, offset);
        const entry = map.findEntry(line, column) as { originalSource?: string };
        if (entry.originalSource && isMissPath(entry.originalSource)) sampled += 1;
      }
      return { bundleBytes: sampled * 16, totalBytes: text.length };
    },
  };
};

#!/usr/bin/env node
// Bundles each Lambda handler of an app into one CommonJS file and a reproducible zip that
// osls deploys as a prebuilt `package.artifact`.
//
//   node tools/scripts/bundle-lambdas.mjs --app apps/sns-lambdas --out dist/apps/sns-lambdas [fn ...]
//
// Functions are named after their entry files: `<app>/src/handlers/<fn>.ts` (change the folder with
// `--handlers-dir`). Without a list, every `*.ts` in that folder except specs and tests is bundled.
// Writes `<out>/<fn>/index.js`, `<out>/<fn>/index.js.map` and `<out>/<fn>.zip`, so the handler is
// `index.handler`.
//
// Choices:
// - Everything is bundled, the AWS SDK v3 included. The Node.js runtime ships an SDK, but its version
//   is AWS's choice and changes under a deployed function; bundling runs the exact versions in
//   package-lock.json that the tests ran against. It costs a few hundred kB of zip.
// - Minified, with `keepNames` so class and function names still read well in logs, and with source
//   maps (the functions run with NODE_OPTIONS=--enable-source-maps, so stack traces point at the
//   TypeScript). Minifying roughly halves the code Node has to parse on a cold start; the source map
//   leaves out `sourcesContent` because Node needs only the mappings for stack traces.
// - CommonJS, not ESM: it is what esbuild's bundled dependencies expect (no `require` shims), and
//   `index.handler` resolves the same way.
// - Zips are reproducible: entries sorted, fixed mode and timestamp, no extra timestamp field. Same
//   input, same bytes, so osls and Lambda see no change when there is none.
// - Lazy chunks: a package the code loads only with a `require()` inside a function (the Powertools Tracer,
//   libs/aws-adapters tracing.ts, loaded only when POWERTOOLS_TRACE_ENABLED=true) is bundled into its own file
//   beside index.js and required from there. Inline, Node would parse it on every cold start, traced or not
//   (the Tracer brings the X-Ray SDK, cls-hooked and semver: about 130 KiB of index.js, ~12 % of a cold start,
//   see tools/bench); as its own file it is read only by a stage that traces. A static `import` of such a package
//   stays inline.
// - Source maps of our code only: the mappings into packages (the AWS SDK, Powertools, inversify: about 90 % of
//   them) are dropped after the build. With --enable-source-maps Node reads and parses a function's whole map at
//   load, and the bench's init-cost figure measured that at +16 to +24 ms of a cold start; a stack trace still
//   points at our TypeScript, and a frame inside a package shows its place in index.js. BUNDLE_SOURCE_MAPS=full
//   keeps them all.
// - Packages known to have no import-time side effects that do not say so in their package.json
//   (`"sideEffects": false`) are marked so: esbuild then drops the modules a function does not use. For
//   @aws-sdk/lib-dynamodb (its only top-level calls build paginators) this keeps the DynamoDB client out of
//   functions that never talk to DynamoDB but import a library that also exports a DynamoDB adapter: the webhook
//   receiver's index.js shrinks by 54 KiB.
import { decode, encode } from '@jridgewell/sourcemap-codec';
import { build } from 'esbuild';
import yazl from 'yazl';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const workspaceRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// yazl writes local time into the DOS fields: build the date from local parts so every timezone
// writes the same bytes. 1980-01-01 is the earliest DOS date.
const FIXED_MTIME = new Date(1980, 0, 1, 0, 0, 0);
const FILE_MODE = 0o100644;

function fail(message) {
  console.error(`bundle-lambdas: ${message}`);
  process.exit(1);
}

function usage() {
  return 'usage: node tools/scripts/bundle-lambdas.mjs --app <app dir> --out <out dir> [--handlers-dir src/handlers] [fn ...]';
}

function parseCli(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        app: { type: 'string' },
        out: { type: 'string' },
        'handlers-dir': { type: 'string', default: 'src/handlers' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    fail(`${error.message}\n${usage()}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(usage());
    process.exit(0);
  }
  if (!values.app || !values.out) fail(`--app and --out are required.\n${usage()}`);
  return {
    appDir: path.resolve(workspaceRoot, values.app),
    outDir: path.resolve(workspaceRoot, values.out),
    handlersDir: path.resolve(workspaceRoot, values.app, values['handlers-dir']),
    functions: positionals,
  };
}

async function discoverFunctions(handlersDir) {
  if (!existsSync(handlersDir)) fail(`no handlers folder at ${path.relative(workspaceRoot, handlersDir)}.`);
  const names = (await readdir(handlersDir))
    .filter((file) => file.endsWith('.ts') && !/\.(spec|test|d)\.ts$/.test(file))
    .map((file) => file.slice(0, -'.ts'.length))
    .sort();
  if (names.length === 0) fail(`no handler files (*.ts) in ${path.relative(workspaceRoot, handlersDir)}.`);
  return names;
}

function pickTsconfig(appDir) {
  // The app's tsconfig extends tsconfig.base.json, so esbuild sees the workspace `paths` aliases.
  for (const candidate of ['tsconfig.app.json', 'tsconfig.json']) {
    const file = path.join(appDir, candidate);
    if (existsSync(file)) return file;
  }
  return path.join(workspaceRoot, 'tsconfig.base.json');
}

/** Packages required lazily (inside a function) that get a file of their own; see "Lazy chunks" above. */
const LAZY_CHUNKS = { '@aws-lambda-powertools/tracer': 'powertools-tracer.js' };

// Only `require()` calls are split: an `import` is evaluated with the module, so splitting it would gain nothing.
const lazyChunksPlugin = {
  name: 'lazy-chunks',
  setup(builder) {
    for (const [specifier, file] of Object.entries(LAZY_CHUNKS)) {
      const filter = new RegExp(`^${specifier.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`);
      builder.onResolve({ filter }, (args) => (args.kind === 'require-call' ? { path: `./${file}`, external: true } : undefined));
    }
  },
};

/** Packages whose files are side-effect free; see the choices above. */
const SIDE_EFFECT_FREE_PACKAGES = ['@aws-sdk/lib-dynamodb'];

const sideEffectFreePlugin = {
  name: 'side-effect-free',
  setup(builder) {
    const escape = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    const names = SIDE_EFFECT_FREE_PACKAGES.map(escape).join('|');
    const inPackage = new RegExp(`[\\\\/]node_modules[\\\\/](${names})[\\\\/]`);
    // The package itself, its subpaths, and the relative imports of its own files (checked against the importer
    // before resolving: every other relative import returns at once).
    builder.onResolve({ filter: new RegExp(`^((${names})(/.*)?|\\..*)$`) }, async (args) => {
      if (args.pluginData?.resolving || (args.path.startsWith('.') && !inPackage.test(args.importer))) return undefined;
      const resolved = await builder.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: { resolving: true },
      });
      if (resolved.errors.length > 0 || resolved.external || !inPackage.test(resolved.path)) return undefined;
      return { path: resolved.path, sideEffects: false };
    });
  },
};

// The same output options for index.js and its lazy chunks: what Lambda runs is built one way.
const OUTPUT_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  // The ES module builds of packages that ship both (the AWS SDK, Powertools…): esbuild can drop what a function
  // never imports only from those. Measured by the bench: the bundles shrink by about a third.
  mainFields: ['module', 'main'],
  sourcemap: true,
  sourcesContent: false,
  minify: true,
  keepNames: true,
  legalComments: 'none',
  logLevel: 'silent',
  plugins: [sideEffectFreePlugin],
};

async function bundle({ fn, entry, fnOutDir, tsconfig }) {
  await rm(fnOutDir, { recursive: true, force: true });
  await mkdir(fnOutDir, { recursive: true });
  const result = await build({
    ...OUTPUT_OPTIONS,
    entryPoints: { index: entry },
    outdir: fnOutDir,
    tsconfig,
    absWorkingDir: workspaceRoot,
    metafile: true,
    // The lazy chunks' resolver first: a split package must not be resolved into index.js.
    plugins: [lazyChunksPlugin, ...OUTPUT_OPTIONS.plugins],
  }).catch((error) => {
    throw esbuildFailure(fn, error);
  });
  for (const warning of result.warnings) {
    console.warn(`bundle-lambdas: warning in ${fn}: ${warning.text}`);
  }
  // Each chunk index.js asks for, built from the package itself; none when the function never requires it.
  const wanted = new Set(Object.values(result.metafile.outputs).flatMap((output) => output.imports.filter((i) => i.external).map((i) => i.path)));
  for (const [specifier, file] of Object.entries(LAZY_CHUNKS)) {
    if (!wanted.has(`./${file}`)) continue;
    const chunk = await build({
      ...OUTPUT_OPTIONS,
      stdin: {
        contents: `module.exports = require(${JSON.stringify(specifier)});`,
        resolveDir: workspaceRoot,
        sourcefile: `${file}.entry.js`,
        loader: 'js',
      },
      outfile: path.join(fnOutDir, file),
      tsconfig,
      absWorkingDir: workspaceRoot,
    }).catch((error) => {
      throw esbuildFailure(`${fn} (${file})`, error);
    });
    for (const warning of chunk.warnings) console.warn(`bundle-lambdas: warning in ${fn} (${file}): ${warning.text}`);
  }
}

/**
 * Keeps only the mappings into the workspace's own sources (see "Source maps of our code" above): a segment into a
 * package becomes an unmapped one, so the mapped range before it ends there instead of stretching over the package's
 * code, and the sources, names and their indices are renumbered. Set BUNDLE_SOURCE_MAPS=full to keep every mapping
 * (to map a CPU profile's frames inside the SDK, say).
 */
async function keepWorkspaceMappings(mapFile) {
  if (process.env.BUNDLE_SOURCE_MAPS === 'full') return;
  const map = JSON.parse(await readFile(mapFile, 'utf8'));
  const ours = map.sources.map((source) => !/(^|[\\/])node_modules[\\/]/.test(source));
  const sourceIndex = new Map();
  const nameIndex = new Map();
  const sources = [];
  const names = [];
  const renumber = (index, table, list, value) => {
    if (!table.has(index)) {
      table.set(index, list.length);
      list.push(value);
    }
    return table.get(index);
  };
  // A mapped segment covers the generated code up to the next segment, on its line and, for Node's lookup, the lines
  // after it: the first unmapped segment after one of ours (on any line) must stay, as an unmapped marker.
  let afterOurs = false;
  const lines = decode(map.mappings).map((segments) => {
    const kept = [];
    for (const segment of segments) {
      if (segment.length > 1 && ours[segment[1]]) {
        const mapped = [...segment];
        mapped[1] = renumber(segment[1], sourceIndex, sources, map.sources[segment[1]]);
        if (mapped.length === 5) mapped[4] = renumber(segment[4], nameIndex, names, map.names[segment[4]]);
        kept.push(mapped);
        afterOurs = true;
      } else if (afterOurs) {
        kept.push([segment[0]]);
        afterOurs = false;
      }
    }
    return kept;
  });
  await writeFile(mapFile, JSON.stringify({ ...map, sources, names, mappings: encode(lines) }));
}

function esbuildFailure(fn, error) {
  const messages = (error.errors ?? []).map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : e.text));
  // Thrown, not exited: the caller's `finally` removes the scratch output.
  return new Error(`esbuild failed for ${fn}:\n  ${messages.length ? messages.join('\n  ') : error.message}`);
}

async function zipDir(sourceDir, zipFile) {
  const files = (await readdir(sourceDir)).sort();
  const zip = new yazl.ZipFile();
  for (const file of files) {
    zip.addBuffer(await readFile(path.join(sourceDir, file)), file, {
      mtime: FIXED_MTIME,
      mode: FILE_MODE,
      compress: true,
      forceDosTimestamp: true,
    });
  }
  zip.end();
  await new Promise((resolve, reject) => {
    const out = createWriteStream(zipFile);
    out.on('close', resolve);
    out.on('error', reject);
    zip.outputStream.on('error', reject).pipe(out);
  });
}

function kib(bytes) {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

async function main() {
  const { appDir, outDir, handlersDir, functions: listed } = parseCli(process.argv.slice(2));
  if (!existsSync(appDir)) fail(`no app folder at ${path.relative(workspaceRoot, appDir)}.`);
  const functions = listed.length > 0 ? listed : await discoverFunctions(handlersDir);
  const badNames = functions.filter((fn) => !/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(fn));
  if (badNames.length > 0) fail(`not a function name (letters, digits, - and _ only): ${badNames.join(', ')}`);

  const entries = functions.map((fn) => ({ fn, entry: path.join(handlersDir, `${fn}.ts`) }));
  const missing = entries.filter(({ entry }) => !existsSync(entry));
  if (missing.length > 0) {
    fail(
      `missing handler entr${missing.length === 1 ? 'y' : 'ies'}: ` +
        missing.map(({ fn, entry }) => `${fn} (${path.relative(workspaceRoot, entry)})`).join(', ') +
        '. Each function needs <handlers-dir>/<fn>.ts exporting `handler`.',
    );
  }

  const tsconfig = pickTsconfig(appDir);
  await mkdir(outDir, { recursive: true });
  const started = Date.now();
  for (const { fn, entry } of entries) {
    const fnOutDir = path.join(outDir, fn);
    const zipFile = path.join(outDir, `${fn}.zip`);
    // Build beside the old output and swap it in by renaming, so a deploy reading the zip while
    // another build runs (parallel tests, two terminals) sees the old or the new file, never half of one.
    // The scratch folder sits at the same depth as the final one: the source map's paths come out the same.
    const scratch = `.${fn}.tmp-${process.pid}`;
    const scratchDir = path.join(outDir, scratch);
    const scratchZip = path.join(outDir, `${scratch}.zip`);
    try {
      await bundle({ fn, entry, fnOutDir: scratchDir, tsconfig });
      for (const file of await readdir(scratchDir)) if (file.endsWith('.js.map')) await keepWorkspaceMappings(path.join(scratchDir, file));
      await zipDir(scratchDir, scratchZip);
      await rm(fnOutDir, { recursive: true, force: true });
      await rename(scratchDir, fnOutDir);
      await rename(scratchZip, zipFile);
    } finally {
      await rm(scratchDir, { recursive: true, force: true });
      await rm(scratchZip, { force: true });
    }
    const [js, zip] = await Promise.all([stat(path.join(fnOutDir, 'index.js')), stat(zipFile)]);
    console.log(`${fn.padEnd(24)} index.js ${kib(js.size).padStart(11)}   ${path.relative(workspaceRoot, zipFile)} ${kib(zip.size).padStart(11)}`);
  }
  console.log(`bundled ${entries.length} function(s) in ${Date.now() - started} ms`);
}

await main().catch((error) => fail(error.message));

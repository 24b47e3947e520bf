// `npm run bench [-- --quick] [--repeats N] [--out DIR]`: the benchmarks of issue 6 (see tools/bench/README.md).
// The SDK warns once per process that it will need Node 22 from 2027; set before the SDK loads, hence the
// dynamic import (static imports would load it first).
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

void import('./main')
  .then(({ main }) => main(process.argv.slice(2)))
  .catch((error: unknown) => {
    process.stderr.write(`[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  })
  .then(() => process.exit(process.exitCode ?? 0));

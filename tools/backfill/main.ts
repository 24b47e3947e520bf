// `npm run backfill -- (--file ids.txt | --from-alma) [--yes]`: see tools/backfill/README.md and `npm run backfill -- --help`.
import { runBackfillCli } from './cli';

const abort = new AbortController();
// First Ctrl-C: finish the patron in hand, save the position, give the run up. Second: exit now (the lease then
// lapses after a minute, and the position saved last, at most 2 s or 50 patrons old, is where the next run resumes).
process.once('SIGINT', () => {
  process.stderr.write('\nstopping after the current patron (Ctrl-C again to quit at once)…\n');
  abort.abort();
  process.once('SIGINT', () => process.exit(130));
});

runBackfillCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, signal: abort.signal }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    process.stderr.write(`${error.stack ?? error.message}\n`);
    process.exitCode = 1;
  },
);

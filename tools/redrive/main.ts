// `npm run redrive -- list|replay --queue …`: see tools/redrive/cli.ts and `npm run redrive -- --help`.
import { runRedrive } from './cli';

const abort = new AbortController();
// First Ctrl-C: finish the message in hand, make the rest visible again, print the summary. Second: exit now.
process.once('SIGINT', () => {
  process.stderr.write('\nstopping after the current message (Ctrl-C again to quit at once)…\n');
  abort.abort();
  process.once('SIGINT', () => process.exit(130));
});

runRedrive(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, signal: abort.signal }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    process.stderr.write(`${error.stack ?? error.message}\n`);
    process.exitCode = 1;
  },
);

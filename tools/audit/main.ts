// `npm run audit -- --stage stg --patron <id> | --sample N [--repair] [--local]`: see tools/audit/options.ts and `--help`.
import { runAuditCli } from './cli';

// The table is the output: the function's JSON log lines (one per drifted patron) would interleave with it.
process.env['POWERTOOLS_LOG_LEVEL'] ??= 'ERROR';
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

runAuditCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    process.stderr.write(`${error.stack ?? error.message}\n`);
    process.exitCode = 1;
  },
);

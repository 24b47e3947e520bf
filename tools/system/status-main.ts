// `npm run status -- --stage stg`: after a deploy, what a person needs next (the webhook URL to paste into Alma, the
// query API URL) and each stack's health (alarms in ALARM, queue and DLQ depths). Exit 0 healthy, 1 a stack missing
// or failed, 2 an alarm firing or a message on a DLQ or failure queue.
import { AwsStatusSource } from './aws-status-source';
import { parseStageOptions } from './options';
import { formatStatus, readStatus, statusExitCode } from './status';

const main = async (): Promise<number> => {
  const { stage, region } = parseStageOptions(process.argv.slice(2), process.env);
  const source = new AwsStatusSource({ region });
  try {
    const report = await readStatus(stage, source);
    console.log(formatStatus(report));
    return statusExitCode(report);
  } finally {
    source.destroy();
  }
};

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`status: ${(error as Error).message}`);
    process.exit(1);
  },
);

// `npm run load -- [--rate N | --rates a,b,c] [--duration S] [--readers N] …`: a bounded semester-start burst on the
// local stack (see the README, Benchmarks, and `--help`). Exit code 0 when every rate passed its checks (nothing lost,
// wrong or parked, refreshes ≤ unknown patrons, Alma within its budget), 1 otherwise, 2 for bad flags.
import { mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, relative } from 'node:path';
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreateTopicCommand, DeleteTopicCommand, PublishCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { createDocumentClient } from '@alma-cache/aws-adapters';
import { startLocalStack, WORKSPACE } from '../local/stack';
import { queueArn } from '../local/template';
import { LoadOptionsError, parseLoadOptions, USAGE } from './options';
import { measureEmulatorFloor, startCpuMeter, startCpuProfile } from './profile';
import { latencyTable, type LoadReport, rateProblems, writeLoadReport } from './report';
import { type RateResult, runRate } from './run-rate';

const say = (line = '') => process.stdout.write(`${line}\n`);
const started = Date.now();
const progress = (line: string) => process.stderr.write(`[load ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
/** The dispatcher's line for a batch update-user took off the Users queue (tools/local/stack.ts startDispatching). */
const USERS_BATCH = /^alma-cache-stg-users → update-user: (\d+) message\(s\), (\d+) failed/;

const main = async (): Promise<number> => {
  let options;
  try {
    options = parseLoadOptions(process.argv.slice(2));
  } catch (error) {
    if (error instanceof LoadOptionsError) {
      process.stderr.write(`npm run load: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw error;
  }
  if (options.help) {
    say(USAGE);
    return 0;
  }
  const command = `npm run load -- ${process.argv.slice(2).join(' ')}`.trim();
  // The bundles' JSON logs and EMF lines would bury the progress lines; warnings and errors still show.
  process.env['POWERTOOLS_LOG_LEVEL'] ??= 'WARN';
  process.env['POWERTOOLS_METRICS_DISABLED'] ??= 'true';
  // Powertools Metrics warns once per invocation that it has nothing to publish, with metrics disabled locally: at
  // 100 webhooks/s that line would be the whole output. Every other warning still shows.
  // Powertools writes it through a Console of its own on process.stderr, so the line is dropped at the stream.
  const writeStderr = process.stderr.write.bind(process.stderr) as (chunk: unknown, ...rest: unknown[]) => boolean;
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) =>
    String(chunk).startsWith('No application metrics to publish') ? true : writeStderr(chunk, ...rest)) as typeof process.stderr.write;
  const stack = await startLocalStack({ log: progress, port: 0 });
  // Ctrl-C stops what the run started (emulators, fake Alma, HTTP port) instead of leaving them behind.
  const onSignal = () => {
    progress('stopping: the local stack and its emulators…');
    void stack.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
  const dynamodb = createDocumentClient();
  let polling = true;
  let extraPollers: Promise<void>[] = [];
  try {
    // The load's own subscriber to the change notifications, raw and unfiltered, as a library app would subscribe.
    const { QueueUrl: changesQueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'alma-cache-local-load-changes' }));
    const sns = new SNSClient({});
    await sns.send(
      new SubscribeCommand({
        TopicArn: stack.session.changeTopicArn,
        Protocol: 'sqs',
        Endpoint: queueArn(changesQueueUrl!),
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );
    // The emulator's floor, before anything polls: SNS publishes per second through a raw topic → queue subscription.
    const { QueueUrl: floorQueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'alma-cache-local-load-floor' }));
    const { TopicArn: floorTopicArn } = await sns.send(new CreateTopicCommand({ Name: 'alma-cache-local-load-floor' }));
    await sns.send(
      new SubscribeCommand({
        TopicArn: floorTopicArn,
        Protocol: 'sqs',
        Endpoint: queueArn(floorQueueUrl!),
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );
    const emulatorFloor = await measureEmulatorFloor({
      publish: () => sns.send(new PublishCommand({ TopicArn: floorTopicArn, Message: '{"probe":true}' })),
      calls: 200,
      rounds: 3,
      concurrency: 8,
    });
    const floorRates = emulatorFloor.rounds.map((round) => round.perSecond).sort((a, b) => a - b);
    progress(
      `moto floor: ${floorRates.map((rate) => rate.toFixed(0)).join(' / ')} SNS publishes/s (min / median / max of 3 rounds of 200, 8 at a time)`,
    );
    // The probe's 600 messages would otherwise sit in moto for the whole run, which scans a queue's messages per call.
    await sns.send(new DeleteTopicCommand({ TopicArn: floorTopicArn }));
    await sqs.send(new DeleteQueueCommand({ QueueUrl: floorQueueUrl }));
    sns.destroy();
    let usersProcessed = 0;
    stack.startDispatching((line) => {
      const batch = USERS_BATCH.exec(line);
      if (batch) usersProcessed += Number(batch[1]) - Number(batch[2]);
      else if (line.startsWith('dispatcher')) progress(line);
    });
    // npm start's dispatcher polls each queue with one poller; Lambda's SQS trigger runs up to maximumConcurrency
    // batches of a cache-update queue at once (5 in serverless.yml), which --pollers restores.
    extraPollers = stack.functions
      .filter((fn) => fn.project === 'sns-lambdas')
      .flatMap((fn) => fn.queues)
      .flatMap((queueUrl) =>
        Array.from({ length: options.pollers - 1 }, async () => {
          while (polling) {
            try {
              await stack.deliverQueue(queueUrl);
            } catch (error) {
              if (polling) progress(`extra poller: ${(error as Error).message}`);
              await new Promise((resolve) => setTimeout(resolve, 500));
            }
          }
        }),
      );
    const updateUser = stack.functions.find((fn) => fn.name === 'update-user');
    const almaBudget = Number(updateUser?.environment['ALMA_CALLS_PER_SECOND'] ?? 10);
    const ctx = { stack, sqs, dynamodb, changesQueueUrl: changesQueueUrl!, usersQueueProcessed: () => usersProcessed, almaBudget, log: progress };

    const stopProfile = process.env['LOAD_CPU_PROF'] ? await startCpuProfile() : undefined;
    const results: RateResult[] = [];
    const cpu: LoadReport['cpu'][number][] = [];
    for (const [index, rate] of options.rates.entries()) {
      const meter = startCpuMeter();
      results.push(await runRate(ctx, options, rate, index));
      cpu.push({ rate, ...meter.stop() });
    }
    const stamp = new Date(started)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    const dir = options.out ?? join(WORKSPACE, 'tools', 'bench', 'reports', `load-${stamp}`);
    mkdirSync(process.env['LOAD_CPU_PROF'] ?? dir, { recursive: true });
    const profile = stopProfile ? await stopProfile(process.env['LOAD_CPU_PROF']!) : undefined;
    const report = {
      command,
      startedAt: new Date(started).toISOString(),
      machine: `${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`,
      results,
      cpu,
      emulatorFloor,
      ...(profile ? { profile } : {}),
    };
    writeLoadReport(report, dir, options.latest ? join(WORKSPACE, 'tools', 'bench', 'reports', 'load-latest') : undefined);

    say(
      `Load: ${options.rates.length === 1 ? `one rate, ${options.rates[0]} webhooks/s` : `${options.rates.length} rates, ${options.rates.join(', ')} webhooks/s`}, ${options.durationSeconds} s each, readers ${options.readersPerSecond}/s`,
    );
    say();
    for (const line of latencyTable(results)) say(line);
    say();
    for (const entry of cpu)
      say(
        `CPU at ${entry.rate}/s: this process ${entry.nodeCpuSeconds.toFixed(1)} s over ${entry.wallSeconds.toFixed(1)} s; machine busy ${(entry.machineBusyShare * 100).toFixed(0)} %, load average ${entry.loadAverage.toFixed(1)}`,
      );
    let failed = false;
    for (const result of results) {
      const problems = rateProblems(result);
      failed ||= problems.length > 0;
      say(`${result.rate}/s: ${problems.length === 0 ? 'every check passed' : problems.join('; ')}`);
    }
    say(`Report: ${relative(process.cwd(), dir)}/load.md (and load.json, load.svg)`);
    return failed ? 1 : 0;
  } finally {
    polling = false;
    await Promise.all(extraPollers);
    sqs.destroy();
    dynamodb.destroy();
    await stack.stop();
  }
};

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    process.stderr.write(`\nThe load run failed: ${error.stack ?? error.message}\n`);
    process.exitCode = 1;
  },
);

// `npm start`: the whole stack on this machine, on 127.0.0.1, no AWS account needed.
// Builds and packages the real functions of the four services, starts the emulators and a fake Alma API, provisions
// what the serverless.yml files declare, creates the webhook topics, each delivering raw to its cache-update function's
// queue (polled by a local dispatcher as Lambda's SQS trigger does), and serves the webhook receiver and the query API on one
// HTTP port. Then it plays the sample webhooks through that port, signed as Alma signs them, and reads the patron
// back through the query API after each, with the change events (apps/change-lambdas, fed the tables' streams) each
// one produced. It stays up until Ctrl-C (or exits at once with --once).
import { parseArgs } from 'node:util';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { generatePatron } from '@alma-cache/alma-api/testing';
import { describeChange, readChangeMessage } from './change-view';
import { describePatronAnswer, postWebhook, queryApi, signAsAlma } from './local-client';
import { SESSION_FILE, startLocalStack, WORKSPACE } from './stack';
import { queueArn } from './template';

const FIXTURES = join(WORKSPACE, 'libs', 'cache-domain', 'src', 'testing', 'alma-webhooks');
const PATRON = 'PAT0042X';

const { values: flags } = parseArgs({
  options: {
    once: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    port: { type: 'string', default: '0' },
    // Patrons the fake Alma knows besides the demo's, none of them cached: a stage to warm up with `npm run backfill`.
    'alma-patrons': { type: 'string', default: '0' },
  },
});
const started = Date.now();
const say = (line = '') => process.stdout.write(`${line}\n`);
const progress = (line: string) => say(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}`);

// The samples keep their order but are re-dated around now: the first happened before the refresh's snapshot, the
// rest after it, whatever today's date is (with their own dates, a refresh run after them would rightly win).
const fixtures = readdirSync(FIXTURES)
  .filter((file) => file.endsWith('.json'))
  .map(
    (file) =>
      JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as {
        id: string;
        time: string;
        event: { value: string };
        item_loan?: Record<string, unknown>;
      },
  )
  .sort((a, b) => a.time.localeCompare(b.time))
  .map((parsed, index) => {
    parsed.time = new Date(started + (index === 0 ? -300_000 : 60_000 + index * 10_000)).toISOString();
    return { body: JSON.stringify(parsed), parsed };
  });

const main = async () => {
  say('Alma cache stack: every service on 127.0.0.1');
  // The bundles log JSON through Powertools; only their warnings and errors unless --verbose.
  process.env['POWERTOOLS_LOG_LEVEL'] = flags.verbose ? 'INFO' : 'WARN';
  // Their EMF metric lines too: CloudWatch reads them in AWS, here they would only bury the demo.
  if (!flags.verbose) process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a TCP port number, got "${flags.port}"`);
  const stack = await startLocalStack({ log: progress, port, httpLog: flags.verbose ? progress : undefined });
  stack.startDispatching(flags.verbose ? progress : () => undefined);
  const { session } = stack;
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
  // The demo's own subscriber to the change notifications, as a library app would subscribe (raw, no filter).
  const { QueueUrl: changesQueue } = await sqs.send(new CreateQueueCommand({ QueueName: 'alma-cache-local-demo-changes' }));
  const sns = new SNSClient({});
  await sns.send(
    new SubscribeCommand({
      TopicArn: session.changeTopicArn,
      Protocol: 'sqs',
      Endpoint: queueArn(changesQueue!),
      Attributes: { RawMessageDelivery: 'true' },
    }),
  );
  sns.destroy();

  // What Alma holds for the patron: the sample loan, and a few older records the webhooks never mentioned.
  const almaPatron = generatePatron(PATRON, { loans: 2, requests: 1, fees: 1 });
  almaPatron.loans.unshift(fixtures[0].parsed.item_loan!);
  stack.alma.seedPatron(almaPatron);
  const extraPatrons = Number(flags['alma-patrons']);
  if (!Number.isInteger(extraPatrons) || extraPatrons < 0 || extraPatrons > 100_000) {
    throw new Error(`--alma-patrons takes a whole number from 0 to 100000, got "${flags['alma-patrons']}"`);
  }
  for (let i = 0; i < extraPatrons; i += 1) {
    stack.alma.seedPatron(generatePatron(`PAT${String(i).padStart(5, '0')}`, { loans: 1 + (i % 3), requests: i % 2, fees: i % 5 === 0 ? 1 : 0 }));
  }
  if (extraPatrons > 0) progress(`fake Alma: ${extraPatrons} more patrons (PAT00000…), not cached: npm run backfill -- --local --from-alma`);

  const sample = join(WORKSPACE, 'tmp', 'local-stack', 'sample-webhook.json');
  const sampleBody = JSON.stringify({ ...fixtures[0].parsed, id: 'curl-sample', time: new Date().toISOString() });
  writeFileSync(sample, sampleBody);

  say();
  say('Ready:');
  say(`  webhook receiver (Alma's endpoint)  POST ${session.url}/   GET ${session.url}/?challenge=…`);
  say(
    `  query API                           GET  ${session.url}/users/{id}[/loans|requests|fees[/{itemId}]]   POST ${session.url}/users/{id}/refresh (admin)`,
  );
  say(`  fake Alma API                       ${stack.alma.url}`);
  say(`  session (secret, local tokens)      ${relative(process.cwd(), SESSION_FILE)}`);
  say();
  say('A signed webhook by hand:');
  say(`  curl -s -X POST ${session.url}/ -H 'content-type: application/json' \\`);
  say(`    -H 'X-Exl-Signature: ${signAsAlma(session.webhookSecret, sampleBody)}' --data-binary @${relative(process.cwd(), sample)}`);
  say(`  curl -s ${session.url}/users/${PATRON} -H 'authorization: Bearer ${session.readerToken}'`);
  say(`  curl -s ${session.url}/users/${PATRON}/loans -H 'authorization: Bearer ${session.patronToken}'   # patron token: ${PATRON} only`);
  say('or: npm run webhook -- LOAN_CREATED [--patron ID]   and   npm run cache -- PAT0042X   and   npm run changes -- --patron PAT0042X');

  const showPatron = async () => {
    const answer = await queryApi(session, `/users/${PATRON}`);
    say(`      GET /users/${PATRON} → ${answer.status}${answer.cache ? ` (x-cache: ${answer.cache})` : ''}`);
    if (answer.status === 200) for (const line of describePatronAnswer(answer.json)) say(`        ${line}`);
    else say(`        ${answer.text}`);
  };
  // Everything the settled stack published since the last look; SNS's fan-out in the emulator is synchronous.
  const showChanges = async () => {
    const lines: string[] = [];
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: changesQueue, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }),
      );
      if (Messages.length === 0) break;
      for (const message of Messages) {
        const line = readChangeMessage(message);
        lines.push(line ? describeChange(line) : `(not a change notification: ${message.Body})`);
      }
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: changesQueue,
          Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
        }),
      );
    }
    say(`      change events: ${lines.length === 0 ? 'none' : lines.length}`);
    for (const line of lines) say(`        ${line}`);
  };
  const post = async (label: string, body: string, signature?: string) => {
    const reply = await postWebhook(session, body, signature);
    await stack.settle();
    say(`    POST ${label.padEnd(26)} → ${reply.status} ${reply.body}`);
    await showChanges();
    return reply;
  };

  say();
  say(`1. The first webhook for ${PATRON}, whom the cache does not know: the loan is cached, the patron queued for`);
  say('   refresh, and the bulk refresh rebuilds them from the (fake) Alma API. After each webhook: the change events');
  say('   published on the cache-changes topic, then the patron as the query API serves them:');
  const [first, ...rest] = fixtures;
  await post(first.parsed.event.value, first.body);
  say(`      Alma API calls made by the refresh: ${stack.alma.calls.length} (loans, requests, fees)`);
  await showPatron();

  say();
  say('2. The rest of the sample webhooks, in the order Alma sent them, each read back through the query API:');
  for (const fixture of rest) {
    await post(fixture.parsed.event.value, fixture.body);
    await showPatron();
  }

  say();
  say('3. A late retry of LOAN_RENEWED after the return (real delivery repeats and reorders): the loan stays returned.');
  const renewed = fixtures.find((fixture) => fixture.parsed.event.value === 'LOAN_RENEWED')!;
  await post('LOAN_RENEWED (again)', renewed.body);
  const loanId = String(renewed.parsed.item_loan?.['loan_id']);
  const loan = await queryApi(session, `/users/${PATRON}/loans/${loanId}`);
  say(`      GET /users/${PATRON}/loans/${loanId} → ${loan.status} ${loan.text}`);

  say();
  say('4. What the receiver refuses, and what it accepts but the cache cannot apply:');
  await post('tampered signature', first.body, signAsAlma('not-the-secret', first.body));
  const broken = JSON.parse(first.body);
  broken.id = 'malformed-demo';
  delete broken.item_loan.loan_id;
  await post('LOAN_CREATED without loan_id', JSON.stringify(broken));
  // The function reading LOAN_CREATED's queue refused it at once: body unchanged on its DLQ, the reason as attributes.
  const refuser = stack.functions.find((fn) => fn.topicQueues['LOAN_CREATED'] !== undefined);
  const deadLetterQueue = Object.values(stack.queues).find((url) => queueArn(url) === refuser?.environment['DEAD_LETTER_QUEUE_ARN']);
  if (!refuser || !deadLetterQueue) throw new Error('No function reads LOAN_CREATED from a queue with a DLQ in the packaged templates');
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: deadLetterQueue, MaxNumberOfMessages: 10, WaitTimeSeconds: 5, MessageAttributeNames: ['All'] }),
  );
  for (const message of Messages) {
    const attribute = (name: string) => message.MessageAttributes?.[name]?.StringValue;
    say(`      ${refuser.name} DLQ: ${attribute('RefusedErrorType')}: ${attribute('RefusedReason')} (refused at once, not retried)`);
  }

  say();
  say(`Demo done in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  const shutdown = async () => {
    say('\nStopping: dispatcher, HTTP server, fake Alma, emulators…');
    sqs.destroy();
    await stack.stop();
    say('Stopped.');
  };
  if (flags.once) {
    await shutdown();
    return;
  }
  say(`Up on ${session.url} until Ctrl-C. Webhooks you POST are delivered to the functions as they arrive.`);
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    void shutdown().then(() => process.exit(0));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
};

main().catch((error: Error) => {
  process.stderr.write(`\nThe local run failed: ${error.message}\n`);
  process.exit(1);
});

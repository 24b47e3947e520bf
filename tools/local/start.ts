// `npm start`: the cache-update and bulk-refresh services on this machine, no AWS account needed.
// Builds and packages the real functions, starts the emulators and a fake Alma API, provisions what both
// serverless.yml files declare, plays the sample Alma webhooks through the built handlers (with the refresh of the
// unknown patron in between) and prints the patron's cache after each. Then it keeps the emulators up until Ctrl-C
// (or exits at once with --once).
import { parseArgs } from 'node:util';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createDocumentClient } from '@alma-cache/aws-adapters';
import { generatePatron } from '@alma-cache/alma-api/testing';
import { describeFee, describeLoan, describeRequest, getRecord, peekQueue, readPatron } from './cache-view';
import { startLocalStack, WORKSPACE } from './stack';

const FIXTURES = join(WORKSPACE, 'libs', 'cache-domain', 'src', 'testing', 'alma-webhooks');
const PATRON = 'PAT0042X';

const { values: flags } = parseArgs({ options: { once: { type: 'boolean', default: false }, verbose: { type: 'boolean', default: false } } });
const started = Date.now();
const say = (line = '') => process.stdout.write(`${line}\n`);
const progress = (line: string) => say(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}`);

// The samples keep their order but are re-dated around now: the first happened before the refresh's snapshot, the
// rest after it, whatever today's date is (with their own dates, a refresh run after them would rightly win).
const fixtures = readdirSync(FIXTURES)
  .filter((file) => file.endsWith('.json') && !file.includes('vectors'))
  .map((file) => JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as { id: string; time: string; event: { value: string }; item_loan?: Record<string, unknown> })
  .sort((a, b) => a.time.localeCompare(b.time))
  .map((parsed, index) => {
    parsed.time = new Date(started + (index === 0 ? -300_000 : 60_000 + index * 10_000)).toISOString();
    return { body: JSON.stringify(parsed), parsed };
  });

const main = async () => {
  say('Alma cache stack: local run of the cache-update and bulk-refresh services');
  // The bundles log JSON through Powertools; only their warnings and errors unless --verbose.
  process.env['POWERTOOLS_LOG_LEVEL'] = flags.verbose ? 'INFO' : 'WARN';
  const stack = await startLocalStack({ log: progress });
  const client = createDocumentClient();
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
  const tables = {
    users: stack.tables['UsersTable'],
    loans: stack.tables['LoansTable'],
    requests: stack.tables['RequestsTable'],
    fees: stack.tables['FeesTable'],
  };
  const usersQueue = stack.queues['UsersQueue'];
  const failureQueue = stack.queues['FailureQueue'];

  const showPatron = async () => {
    const view = await readPatron(client, tables, PATRON);
    if (!view.user) return say(`      patron ${view.key}: not cached`);
    const ids = (name: string) => [...(view.user?.[name] ?? [])].sort().join(', ');
    say(`      patron ${view.key}: loan_ids=[${ids('loan_ids')}] request_ids=[${ids('request_ids')}] fee_ids=[${ids('fee_ids')}]`);
    for (const loan of view.loans) say(`        ${describeLoan(loan)}`);
    for (const request of view.requests) say(`        ${describeRequest(request)}`);
    for (const fee of view.fees) say(`        ${describeFee(fee)}`);
  };
  const publish = async (label: string, eventType: string, body: string) => {
    const result = await stack.publish(eventType, body);
    const outcome = result.succeeded ? 'ok' : `FAILED after ${result.attempts} attempts: ${result.error?.message}`;
    say(`${label.padEnd(4)}${eventType.padEnd(24)} → ${result.functionName.padEnd(16)} ${outcome}`);
    return result;
  };

  say();
  say(`Tables: ${Object.values(stack.tables).join(', ')}`);
  say(`Queues: ${Object.values(stack.queues).join(', ')}`);
  say(`Functions: ${stack.functions.map((fn) => `${fn.name} ← ${[...fn.topics, ...fn.queues.map((url) => url.split('/').pop())].join(', ')}`).join('; ')}`);
  say(`Alma API (fake, on loopback): ${stack.alma.url}`);
  say();
  say(`1. The first webhook for ${PATRON}, whom the cache does not know yet:`);
  const [first, ...rest] = fixtures;
  await publish('', first.parsed.event.value, first.body);
  await showPatron();
  say(`      the loan itself is cached: ${describeLoan((await getRecord(client, tables.loans, { loan_id: JSON.parse(first.body).item_loan.loan_id }))!)}`);
  say(`      Users queue (read by the bulk refresh): ${JSON.stringify(await peekQueue(sqs, usersQueue))}`);

  say();
  say(`2. The bulk refresh takes ${PATRON} off the Users queue and rebuilds them from the Alma API:`);
  // What Alma holds for the patron: the sample loan, and a few older records the webhooks never mentioned.
  const almaPatron = generatePatron(PATRON, { loans: 2, requests: 1, fees: 1 });
  almaPatron.loans.unshift(first.parsed.item_loan!);
  stack.alma.seedPatron(almaPatron);
  const delivery = await stack.deliverQueue(usersQueue);
  const almaCalls = stack.alma.calls.length;
  say(`      Users queue → ${delivery?.functionName}: ${delivery?.received} message(s), ${delivery?.failed} failed; ${almaCalls} Alma API calls (loans, requests, fees)`);
  await showPatron();

  say();
  say('3. The rest of the sample webhooks, in the order Alma sent them:');
  for (const fixture of rest) {
    await publish('', fixture.parsed.event.value, fixture.body);
    await showPatron();
  }

  say();
  say('4. A late retry of LOAN_RENEWED after the return (real delivery repeats and reorders):');
  const renewed = fixtures.find((fixture) => fixture.parsed.event.value === 'LOAN_RENEWED')!;
  await publish('', 'LOAN_RENEWED', renewed.body);
  const loan = await getRecord(client, tables.loans, { loan_id: JSON.parse(renewed.body).item_loan.loan_id });
  say(`      the loan stays returned: ${describeLoan(loan!)}`);
  await showPatron();

  say();
  say('5. A malformed webhook (no loan id): rejected before any write, retried as Lambda would, then parked:');
  const broken = JSON.parse(first.body);
  broken.id = 'malformed-demo';
  delete broken.item_loan.loan_id;
  await publish('', 'LOAN_CREATED', JSON.stringify(broken));
  const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: failureQueue, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
  for (const message of Messages) {
    const record = JSON.parse(message.Body ?? '{}');
    say(`      failure queue: ${record.responsePayload?.errorType}: ${record.responsePayload?.errorMessage} (after ${record.requestContext?.approximateInvokeCount} attempts)`);
  }

  say();
  say(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  if (flags.once) {
    client.destroy();
    sqs.destroy();
    await stack.stop();
    return;
  }
  say(`The emulators stay up until Ctrl-C: ${stack.aws.description}`);
  say('  e.g. AWS_ENDPOINT_URL_DYNAMODB=' + stack.aws.env['AWS_ENDPOINT_URL_DYNAMODB'] + ` with table ${tables.loans}`);
  const shutdown = async () => {
    say('\nStopping the emulators…');
    client.destroy();
    sqs.destroy();
    await stack.stop();
    say('Stopped.');
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
  setInterval(() => undefined, 1 << 30);
};

main().catch((error: Error) => {
  process.stderr.write(`\nThe local run failed: ${error.message}\n`);
  process.exit(1);
});

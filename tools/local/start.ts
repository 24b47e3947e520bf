// `npm start`: the SNS cache-update service on this machine, no AWS account needed.
// Builds and packages the real functions, starts the emulators, provisions what serverless.yml declares, plays the
// sample Alma webhooks through the built handlers and prints the patron's cache after each. Then it keeps the
// emulators up until Ctrl-C (or exits at once with --once).
import { parseArgs } from 'node:util';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { userCacheKey } from '@alma-cache/cache-domain';
import { createDocumentClient } from '@alma-cache/aws-adapters';
import { describeLoan, describeRequest, getRecord, peekQueue, readPatron } from './cache-view';
import { startLocalStack, WORKSPACE } from './stack';

const FIXTURES = join(WORKSPACE, 'libs', 'cache-domain', 'src', 'testing', 'alma-webhooks');
const PATRON = 'PAT0042X';

const { values: flags } = parseArgs({ options: { once: { type: 'boolean', default: false }, verbose: { type: 'boolean', default: false } } });
const started = Date.now();
const say = (line = '') => process.stdout.write(`${line}\n`);
const progress = (line: string) => say(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}`);

const fixtures = readdirSync(FIXTURES)
  .filter((file) => file.endsWith('.json'))
  .map((file) => readFileSync(join(FIXTURES, file), 'utf8'))
  .map((body) => ({ body, parsed: JSON.parse(body) as { id: string; time: string; event: { value: string } } }))
  .sort((a, b) => a.parsed.time.localeCompare(b.parsed.time));

const main = async () => {
  say('Alma cache stack: local run of the SNS cache-update service');
  // The bundles log JSON through Powertools; only their warnings and errors unless --verbose.
  process.env['POWERTOOLS_LOG_LEVEL'] = flags.verbose ? 'INFO' : 'WARN';
  const stack = await startLocalStack({ log: progress });
  const client = createDocumentClient();
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
  const tables = { users: stack.tables['UsersTable'], loans: stack.tables['LoansTable'], requests: stack.tables['RequestsTable'] };
  const usersQueue = stack.queues['UsersQueue'];
  const failureQueue = stack.queues['FailureQueue'];

  const showPatron = async () => {
    const view = await readPatron(client, tables, PATRON);
    if (!view.user) return say(`      patron ${view.key}: not cached`);
    say(`      patron ${view.key}: loan_ids=[${[...(view.user['loan_ids'] ?? [])].join(', ')}] request_ids=[${[...(view.user['request_ids'] ?? [])].join(', ')}]`);
    for (const loan of view.loans) say(`        ${describeLoan(loan)}`);
    for (const request of view.requests) say(`        ${describeRequest(request)}`);
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
  say(`Functions: ${stack.functions.map((fn) => `${fn.name} ← ${fn.topics.join(', ')}`).join('; ')}`);
  say();
  say(`1. The first webhook for ${PATRON}, whom the cache does not know yet:`);
  const [first, ...rest] = fixtures;
  await publish('', first.parsed.event.value, first.body);
  await showPatron();
  say(`      the loan itself is cached: ${describeLoan((await getRecord(client, tables.loans, { loan_id: JSON.parse(first.body).item_loan.loan_id }))!)}`);
  say(`      Users queue (read by the bulk refresh): ${JSON.stringify(await peekQueue(sqs, usersQueue))}`);

  say();
  say('2. Stand-in for the bulk refresh (a later service rebuilds the patron from the Alma API): caching the patron');
  await client.send(new PutCommand({ TableName: tables.users, Item: { primary_id: userCacheKey(PATRON), loan_ids: new Set([JSON.parse(first.body).item_loan.loan_id]) } }));
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

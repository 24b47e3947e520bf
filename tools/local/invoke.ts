// `npm run invoke -- path/to/webhook.json [--cached-patron]`: one Alma webhook body of your own through the built
// function subscribed to its event type, on a fresh local stack; prints what the function did to the cache.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { userCacheKey } from '@alma-cache/cache-domain';
import { createDocumentClient } from '@alma-cache/aws-adapters';
import { describeLoan, describeRequest, getRecord, peekQueue } from './cache-view';
import { startLocalStack } from './stack';
import { queueArn } from './template';

const usage = 'usage: npm run invoke -- <webhook.json> [--cached-patron] [--verbose]';

const main = async () => {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { 'cached-patron': { type: 'boolean', default: false }, verbose: { type: 'boolean', default: false } },
  });
  if (positionals.length !== 1) throw new Error(usage);
  const body = readFileSync(positionals[0], 'utf8');
  let parsed: Record<string, any>;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new Error(`${positionals[0]} is not JSON (${(error as Error).message}); the function would reject it the same way`);
  }
  const eventType = parsed?.['event']?.['value'];
  if (typeof eventType !== 'string') throw new Error(`${positionals[0]} has no event.value: no topic, so no function, would receive it`);

  process.env['POWERTOOLS_LOG_LEVEL'] = values.verbose ? 'INFO' : 'WARN';
  if (!values.verbose) process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
  const stack = await startLocalStack({ log: (line) => process.stderr.write(`${line}\n`) });
  const client = createDocumentClient();
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
  try {
    const patron = parsed['item_loan']?.['user_id'] ?? parsed['user_request']?.['user_primary_id'];
    const userKey = typeof patron === 'string' ? userCacheKey(patron) : undefined;
    if (values['cached-patron'] && userKey) {
      await client.send(new PutCommand({ TableName: stack.tables['UsersTable'], Item: { primary_id: userKey } }));
      process.stdout.write(`patron ${userKey} cached first (as the bulk refresh would)\n`);
    }

    const result = await stack.publish(eventType, body);
    // Read before anything else is printed: a refused event is processed (not received again), and only the function's
    // DLQ says it was refused, with its reason as message attributes.
    const fn = stack.functions.find((candidate) => candidate.name === result.functionName);
    const deadLetterQueue = Object.values(stack.queues).find((url) => queueArn(url) === fn?.environment['DEAD_LETTER_QUEUE_ARN']);
    const { Messages = [] } = deadLetterQueue
      ? await sqs.send(new ReceiveMessageCommand({ QueueUrl: deadLetterQueue, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }))
      : {};
    const refusals = Messages.map((message) => ({
      errorType: message.MessageAttributes?.['RefusedErrorType']?.StringValue,
      reason: message.MessageAttributes?.['RefusedReason']?.StringValue,
    }));
    const refused = result.succeeded && refusals.length > 0;
    const outcome = !result.succeeded
      ? `failed: ${result.error?.message}`
      : refused
        ? `refused as invalid: nothing written, parked on the ${result.functionName} DLQ at once (not received again)`
        : 'ok';
    process.stdout.write(`${eventType} → ${result.functionName}: ${outcome}\n`);

    const loanId = parsed['item_loan']?.['loan_id'];
    const requestId = parsed['user_request']?.['request_id'];
    if (typeof loanId === 'string') {
      const loan = await getRecord(client, stack.tables['LoansTable'], { loan_id: loanId });
      process.stdout.write(`Loans table: ${loan ? describeLoan(loan) : 'no record'}\n`);
    }
    if (typeof requestId === 'string') {
      const request = await getRecord(client, stack.tables['RequestsTable'], { request_id: requestId });
      process.stdout.write(`Requests table: ${request ? describeRequest(request) : 'no record'}\n`);
    }
    if (userKey) {
      const user = await getRecord(client, stack.tables['UsersTable'], { primary_id: userKey });
      process.stdout.write(
        `Users table: ${user ? JSON.stringify(user, (_key, value) => (value instanceof Set ? [...value] : value)) : 'patron not cached'}\n`,
      );
    }
    process.stdout.write(`Users queue: ${JSON.stringify(await peekQueue(sqs, stack.queues['UsersQueue']))}\n`);
    for (const refusal of refusals) process.stdout.write(`DLQ: ${refusal.errorType}: ${refusal.reason}\n`);
    if (!result.succeeded || refused) process.exitCode = 2;
  } finally {
    client.destroy();
    sqs.destroy();
    await stack.stop();
  }
};

main().catch((error: Error) => {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
});

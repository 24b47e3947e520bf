// The CLI in this process against moto SQS (and DynamoDB Local) from the shared global setup: messages parked as the
// cache-update functions, SQS and (before the upgrade to queues) Lambda park them, then list / replay as an operator
// runs them. Each test has its own stage, so its queues start empty.
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createDocumentClient, createSqsBatchHandler, DynamoDbCacheStore, SqsFailureParking, SqsUserRefreshQueue } from '@alma-cache/aws-adapters';
import { createCacheTables } from '@alma-cache/aws-adapters/testing';
import { DEFAULT_EXPIRY_POLICY, RecordLoan, systemClock } from '@alma-cache/cache-domain';
import { almaWebhookMessageAsOf, InMemoryCacheStore, InMemoryUserRefreshQueue, ManualClock } from '@alma-cache/cache-domain/testing';
import type { LambdaHandler } from '../../invokers';
import {
  clients,
  createQueue,
  drainBodies,
  eventQueues,
  failOnEveryReceive,
  freshStage,
  parkFailedEvent,
  parkRefused,
  queueArn,
  queueDepth,
  recordingHandler,
  redrive,
  topicWithQueue,
} from './support';

const { sqs, sns } = clients();
afterAll(() => {
  sqs.destroy();
  sns.destroy();
});

const DAY_MS = 24 * 3600 * 1000;
const PATRON = 'PAT0042X';
const LOAN = '7391500230004561';

/** A LOAN_CREATED of PATRON's loan LOAN, dated `daysAgo` before now (the replay runs on the real clock). */
const loanCreated = (daysAgo = 0, variation: { eventId?: string; itemId?: string } = {}) =>
  almaWebhookMessageAsOf('LOAN_CREATED', new Date(Date.now() - daysAgo * DAY_MS), { userPrimaryId: PATRON, itemId: LOAN, ...variation });

/** Receives every message of a queue with its attributes (not deleted): [body, attribute names]. */
const messagesOn = async (queueUrl: string): Promise<[string, string[]][]> => {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      VisibilityTimeout: 60,
      MessageAttributeNames: ['All'],
    }),
  );
  return Messages.map((message) => [message.Body ?? '', Object.keys(message.MessageAttributes ?? {}).sort()]);
};

/**
 * loan-updated's queue and DLQ holding two events: one the function refused at once (dated more than 5 minutes
 * ahead by a clock that was wrong then; now in range), with its reason as attributes, and one that failed on all 12
 * receives (DynamoDB down) until SQS moved it to the DLQ. Both carry a trace attribute of their own.
 */
const parkedEvents = async () => {
  const stage = freshStage();
  const { queueUrl, dlqUrl } = await eventQueues(sqs, stage, 'loan-updated');
  const traced = { traceparent: { DataType: 'String', StringValue: '00-abc-def-01' } };
  const refused = loanCreated(0, { eventId: '5500110001' });
  const failed = loanCreated(0, { eventId: '5500110002', itemId: '7391500230004562' });
  await parkRefused(sqs, dlqUrl, refused, 'MalformedEventError', 'Alma event 5500110001: "time" is more than 300 s in the future', traced);
  await failOnEveryReceive(sqs, queueUrl, failed, traced);
  return { stage, queueUrl, dlqUrl, refused, failed };
};

describe('redrive on a cache-update DLQ', () => {
  it('lists a refused and a 12-times-failed event with their reasons, without patron or record ids, and consumes nothing', async () => {
    // Prepare
    const { stage, dlqUrl } = await parkedEvents();

    // Act
    const { code, stdout } = await redrive(['list', '--queue', 'loan-updated-dlq', '--stage', stage]);

    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain(`alma-cache-${stage}-loan-updated-dlq: 2 message(s)`);
    expect(stdout).toMatch(
      /alma-event\s+LOAN_CREATED loan event of \S+\s+\d+ rcv\s+MalformedEventError: Alma event 5500110001: "time" is more than 300 s in the future/,
    );
    expect(stdout).toMatch(
      /alma-event\s+LOAN_CREATED loan event of \S+\s+1[3-9] rcv\s+failed 1[3-9] receives \(ApproximateReceiveCount, this read included\)/,
    );
    expect(stdout).toMatch(/per reason:\n\s+1\s+loan-updated failed its receives\n\s+1\s+MalformedEventError/);
    expect(stdout).not.toContain(PATRON);
    expect(stdout).not.toContain('739150023000456');
    expect(await queueDepth(sqs, dlqUrl)).toBe(2);
  });

  it('is a dry run without --yes: says where each would go and changes nothing', async () => {
    // Prepare
    const { stage, queueUrl, dlqUrl } = await parkedEvents();

    // Act
    const { code, stdout } = await redrive(['replay', '--queue', 'loan-updated-dlq', '--stage', stage, '--to', 'source']);

    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain('dry run: 2 would be replayed, 0 skipped; nothing was sent or deleted (add --yes to act)');
    expect(stdout).toMatch(new RegExp(`would\\s+2\\s+send to alma-cache-${stage}-loan-updated\\n`));
    expect(await queueDepth(sqs, dlqUrl)).toBe(2);
    expect(await queueDepth(sqs, queueUrl)).toBe(0);
  });

  it('with --yes sends each event back to its source queue without the refusal attributes, and empties the DLQ', async () => {
    // Prepare
    const { stage, queueUrl, dlqUrl, refused, failed } = await parkedEvents();

    // Act
    const { code, stdout } = await redrive(['replay', '--queue', 'loan-updated-dlq', '--stage', stage, '--to', 'source', '--yes']);

    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain('replayed 2 (deleted 2), failed 0 (kept), skipped 0 (kept)');
    expect((await messagesOn(queueUrl)).sort()).toEqual(
      [
        [refused, ['traceparent']],
        [failed, ['traceparent']],
      ].sort(),
    );
    expect(await queueDepth(sqs, dlqUrl)).toBe(0);
  });

  it('with --move-task falls back to the same resend where StartMessageMoveTask is missing (moto)', async () => {
    // Prepare
    const { stage, queueUrl, dlqUrl } = await parkedEvents();

    // Act
    const { code, stdout, stderr } = await redrive([
      'replay',
      '--queue',
      'loan-updated-dlq',
      '--stage',
      stage,
      '--to',
      'source',
      '--yes',
      '--move-task',
    ]);

    // Assess
    expect(code).toBe(0);
    expect(stderr).toContain(`alma-cache-${stage}-loan-updated-dlq → alma-cache-${stage}-loan-updated with StartMessageMoveTask`);
    expect(stderr).toContain('StartMessageMoveTask unavailable');
    expect(stdout).toContain('replayed 2 (deleted 2)');
    expect(await queueDepth(sqs, queueUrl)).toBe(2);
    expect(await queueDepth(sqs, dlqUrl)).toBe(0);
  });

  it("with --to handler --local applies the event to the cache through the function's SQS batch handler, and deletes it", async () => {
    // Prepare: loan-updated as its composition root wires it, on DynamoDB Local tables of its own
    const { stage, queueUrl, dlqUrl } = await parkedEvents();
    const tables = await createCacheTables();
    const usersQueueUrl = await createQueue(sqs, `alma-cache-${stage}-users`);
    const documents = createDocumentClient();
    const recordLoan = new RecordLoan({
      store: new DynamoDbCacheStore(documents, tables),
      refreshQueue: new SqsUserRefreshQueue(sqs, usersQueueUrl),
      clock: systemClock,
      expiry: DEFAULT_EXPIRY_POLICY,
    });
    const loanUpdated = createSqsBatchHandler(
      async (record) => {
        await recordLoan.execute(record.body);
      },
      {
        logger: new Logger({ serviceName: 'alma-cache-sns', logLevel: 'SILENT' }),
        metrics: new Metrics({ namespace: 'redrive-spec', serviceName: 'alma-cache-sns' }),
        deadLetterQueue: new SqsFailureParking(sqs, dlqUrl),
      },
    ) as unknown as LambdaHandler;
    const loaded: string[] = [];

    // Act
    const { code, stdout } = await redrive(['replay', '--queue', 'loan-updated-dlq', '--stage', stage, '--to', 'handler', '--local', '--yes'], {
      loadHandler: async (fn) => {
        loaded.push(`${fn.service}/${fn.name}`);
        return loanUpdated;
      },
    });

    // Assess
    const { Items = [] } = await documents.send(new ScanCommand({ TableName: tables.loans }));
    documents.destroy();
    expect(code).toBe(0);
    expect(stdout).toContain('replayed 2 (deleted 2), failed 0 (kept), skipped 0 (kept)');
    expect(new Set(loaded)).toEqual(new Set(['alma-cache-sns/loan-updated']));
    expect(Items.map((item) => JSON.stringify(item)).filter((item) => item.includes(LOAN) || item.includes('7391500230004562'))).toHaveLength(2);
    expect(await queueDepth(sqs, dlqUrl)).toBe(0);
    expect(await queueDepth(sqs, queueUrl)).toBe(0);
  });

  it('lists an event past the replay horizon as not replayable, and skips and keeps it for either target', async () => {
    // Prepare: failed 12 receives 22 days ago, as far as the event's own time says
    const stage = freshStage();
    const { queueUrl, dlqUrl } = await eventQueues(sqs, stage, 'loan-updated');
    const old = loanCreated(22);
    await failOnEveryReceive(sqs, queueUrl, old);
    const invoked: string[] = [];

    // Act
    const listed = await redrive(['list', '--queue', 'loan-updated-dlq', '--stage', stage]);
    const toSource = await redrive(['replay', '--queue', 'loan-updated-dlq', '--stage', stage, '--to', 'source', '--yes']);
    const toHandler = await redrive(['replay', '--queue', 'loan-updated-dlq', '--stage', stage, '--to', 'handler', '--local', '--yes'], {
      loadHandler: async (fn) => {
        invoked.push(fn.name);
        return async () => ({ batchItemFailures: [] });
      },
    });

    // Assess: the function's own use case, on the same clock, gives the same reason.
    const reason = await new RecordLoan({
      store: new InMemoryCacheStore(),
      refreshQueue: new InMemoryUserRefreshQueue(),
      clock: new ManualClock(new Date().toISOString()),
      expiry: DEFAULT_EXPIRY_POLICY,
    })
      .execute(old)
      .then(
        () => 'accepted',
        (error: Error) => `${error.name}: ${error.message}`,
      );
    expect(reason).toMatch(/^MalformedEventError: Alma event \S+: "time" \S+ is older than the replay horizon \(21 days\)/);
    expect(listed.stdout).toContain('[not replayable now: MalformedEventError: Alma event');
    expect(listed.stdout).toContain('older than the replay horizon (21 days)');
    for (const run of [toSource, toHandler]) {
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('replayed 0 (deleted 0), failed 0 (kept), skipped 0 (kept), refused 1 (kept)');
      expect(run.stdout).toContain(reason);
    }
    expect(invoked).toEqual([]);
    expect(await queueDepth(sqs, queueUrl)).toBe(0);
    expect(await queueDepth(sqs, dlqUrl)).toBe(1);
  });

  it('keeps an event its function reports in batchItemFailures, and fails the run', async () => {
    // Prepare
    const { stage, dlqUrl, refused } = await parkedEvents();
    const { handler, received } = recordingHandler(async (body) =>
      body === refused ? { batchItemFailures: [] } : { batchItemFailures: [{ itemIdentifier: 'x' }] },
    );
    // The failing answer names the record it got: recordingHandler above cannot know the id, so wrap it.
    const naming: LambdaHandler = async (event, context) => {
      const answer = (await handler(event, context)) as { batchItemFailures: { itemIdentifier: string }[] };
      const [record] = (event as { Records: { messageId: string; messageAttributes: Record<string, unknown> }[] }).Records;
      expect(Object.keys(record.messageAttributes)).toEqual(['traceparent']);
      return { batchItemFailures: answer.batchItemFailures.map(() => ({ itemIdentifier: record.messageId })) };
    };

    // Act
    const { code, stdout } = await redrive(['replay', '--queue', 'loan-updated-dlq', '--stage', stage, '--to', 'handler', '--local', '--yes'], {
      loadHandler: async () => naming,
    });

    // Assess
    expect(code).toBe(2);
    expect(received).toHaveLength(2);
    expect(stdout).toContain('replayed 1 (deleted 1), failed 1 (kept)');
    expect(stdout).toMatch(/BatchItemFailure: the function reported it in batchItemFailures/);
    expect(await queueDepth(sqs, dlqUrl)).toBe(1);
  });
});

/**
 * The failure queue of the SNS path, as a stage upgraded to queues keeps it: a malformed event loan-updated refused
 * and a good one that failed (DynamoDB throttled), as Lambda parked them; loan-updated's new queue; the topic with
 * another subscriber.
 */
const parkedFailures = async () => {
  const stage = freshStage();
  const failureQueueUrl = await createQueue(sqs, `alma-cache-${stage}-sns-lambdas-failures`);
  const { queueUrl } = await eventQueues(sqs, stage, 'loan-updated');
  const topic = await topicWithQueue(sqs, sns, `LOAN_CREATED-${stage}`);
  const good = loanCreated();
  const record = { stage, fn: 'loan-updated' as const, topicArn: topic.topicArn };
  await parkFailedEvent(sqs, failureQueueUrl, {
    ...record,
    message: '{"event":',
    errorType: 'MalformedEventError',
    errorMessage: 'the message is not JSON',
  });
  await parkFailedEvent(sqs, failureQueueUrl, {
    ...record,
    message: good,
    errorType: 'ProvisionedThroughputExceededException',
    errorMessage: 'throttled',
  });
  return { stage, failureQueueUrl, queueUrl, topic, good };
};

describe('redrive on the failure queue of the SNS path (upgrade)', () => {
  it('shows each parked record with its reason and attempts, counts per reason, and consumes nothing', async () => {
    // Prepare
    const { stage, failureQueueUrl } = await parkedFailures();

    // Act
    const { code, stdout } = await redrive(['list', '--queue', 'failures', '--stage', stage]);

    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain(`alma-cache-${stage}-sns-lambdas-failures: 2 message(s)`);
    expect(stdout).toMatch(/lambda-failure\s+not JSON \(9 characters\)\s+3\s+MalformedEventError: the message is not JSON/);
    expect(stdout).toMatch(/lambda-failure\s+LOAN_CREATED loan event of \S+\s+3\s+ProvisionedThroughputExceededException: throttled/);
    expect(stdout).toMatch(/per reason:\n\s+1\s+MalformedEventError\n\s+1\s+ProvisionedThroughputExceededException/);
    expect(stdout).not.toContain(PATRON);
    expect((await redrive(['list', '--queue', 'failures', '--stage', stage, '--json'])).stdout).toContain('"reasonKey": "MalformedEventError"');
    expect(await queueDepth(sqs, failureQueueUrl)).toBe(2);
  });

  it("sends a record's Alma event to the new queue of the function it names, not to the topic; a malformed one and a stream record stay", async () => {
    // Prepare: besides, a record of request-updated, whose queue this stage lacks (the send fails: kept), and a stream record
    const { stage, failureQueueUrl, queueUrl, topic, good } = await parkedFailures();
    const request = almaWebhookMessageAsOf('REQUEST_CREATED', new Date());
    await parkFailedEvent(sqs, failureQueueUrl, {
      stage,
      fn: 'request-updated',
      topicArn: topic.topicArn,
      message: request,
      errorType: 'Error',
      errorMessage: 'boom',
    });
    const streamRecord = {
      requestContext: {
        functionArn: `arn:aws:lambda:eu-west-1:000000000000:function:alma-cache-changes-${stage}-publish-changes`,
        condition: 'RetryAttemptsExhausted',
      },
      DDBStreamBatchInfo: {
        shardId: 'shardId-1',
        startSequenceNumber: '1',
        endSequenceNumber: '9',
        batchSize: 2,
        streamArn: 'arn:aws:dynamodb:eu-west-1:0:table/t/stream/s',
      },
    };
    await sqs.send(new SendMessageCommand({ QueueUrl: failureQueueUrl, MessageBody: JSON.stringify(streamRecord) }));

    // Act
    const dryRun = await redrive(['replay', '--queue', 'failures', '--stage', stage, '--to', 'source']);
    const { code, stdout, stderr } = await redrive(['replay', '--queue', 'failures', '--stage', stage, '--to', 'source', '--yes']);

    // Assess
    expect(dryRun.stdout).toMatch(new RegExp(`would\\s+1\\s+send to alma-cache-${stage}-loan-updated\\n`));
    expect(dryRun.stdout).toMatch(new RegExp(`would\\s+1\\s+send to alma-cache-${stage}-request-updated\\n`));
    expect(code).toBe(2);
    expect(stdout).toContain('replayed 1 (deleted 1), failed 1 (kept), skipped 1 (kept), refused 1 (kept)');
    expect(stdout).toMatch(/failed:\n\s+1\s+QueueDoesNotExist: /);
    expect(stdout).toMatch(/skipped:\n\s+1\s+a stream on-failure record names the shard/);
    expect(stdout).toMatch(/refused \(the function would refuse them again; left parked\):\n\s+1\s+MalformedEventError: message is not JSON/);
    expect(stderr).toMatch(/\[#{30}\] 4\/4 100%/);
    expect(await drainBodies(sqs, queueUrl)).toEqual([good]);
    expect(await queueDepth(sqs, topic.queueUrl)).toBe(0);
    expect(await queueDepth(sqs, failureQueueUrl)).toBe(3);
  });

  it('sends a raw SNS notification to the queue of the function subscribed to its topic', async () => {
    // Prepare: what an SNS subscription's redrive policy parked (SNS could not invoke the function)
    const stage = freshStage();
    const failureQueueUrl = await createQueue(sqs, `alma-cache-${stage}-sns-lambdas-failures`);
    const { queueUrl } = await eventQueues(sqs, stage, 'request-closed');
    const message = almaWebhookMessageAsOf('REQUEST_CANCELED', new Date());
    const envelope = {
      Type: 'Notification',
      MessageId: 'n1',
      TopicArn: `arn:aws:sns:eu-west-1:000000000000:REQUEST_CANCELED`,
      Message: message,
      MessageAttributes: { traceparent: { Type: 'String', Value: '00-abc-def-01' } },
    };
    await sqs.send(new SendMessageCommand({ QueueUrl: failureQueueUrl, MessageBody: JSON.stringify(envelope) }));

    // Act
    const { code, stdout } = await redrive(['replay', '--queue', 'failures', '--stage', stage, '--to', 'source', '--yes']);

    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain(`sent to alma-cache-${stage}-request-closed`);
    expect(await messagesOn(queueUrl)).toEqual([[message, ['traceparent']]]);
    expect(await queueDepth(sqs, failureQueueUrl)).toBe(0);
  });

  it('with --reason replays only the records failed for that reason and keeps the others', async () => {
    // Prepare
    const { stage, failureQueueUrl, queueUrl, good } = await parkedFailures();

    // Act
    const { code, stdout } = await redrive([
      'replay',
      '--queue',
      'failures',
      '--stage',
      stage,
      '--to',
      'source',
      '--yes',
      '--reason',
      'ProvisionedThroughputExceededException',
    ]);

    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain('replayed 1 (deleted 1), failed 0 (kept), skipped 1 (kept)');
    expect(await drainBodies(sqs, queueUrl)).toEqual([good]);
    expect(await queueDepth(sqs, failureQueueUrl)).toBe(1);
  });

  it("gives a record's Alma event to the function it names as a one-record SQS event; one that fails again is kept", async () => {
    // Prepare: besides the malformed and the good event, one the function fails on again (still throttled)
    const { stage, failureQueueUrl, topic, good } = await parkedFailures();
    const throttled = loanCreated(0, { eventId: '5500119999', itemId: '7391500239999999' });
    await parkFailedEvent(sqs, failureQueueUrl, {
      stage,
      fn: 'loan-updated',
      topicArn: topic.topicArn,
      message: throttled,
      errorType: 'ProvisionedThroughputExceededException',
      errorMessage: 'throttled',
    });
    const { handler, received } = recordingHandler(async (body) => {
      if (body !== good) throw Object.assign(new Error('still throttled'), { name: 'ProvisionedThroughputExceededException' });
      return { batchItemFailures: [] };
    });
    const loaded: string[] = [];

    // Act
    const { code, stdout } = await redrive(['replay', '--queue', 'failures', '--stage', stage, '--to', 'handler', '--yes'], {
      loadHandler: async (fn) => {
        loaded.push(`${fn.service}/${fn.name}`);
        return handler;
      },
    });

    // Assess
    expect(code).toBe(2);
    expect(received.sort()).toEqual([good, throttled].sort());
    expect(new Set(loaded)).toEqual(new Set(['alma-cache-sns/loan-updated']));
    expect(stdout).toContain('replayed 1 (deleted 1), failed 1 (kept), skipped 0 (kept), refused 1 (kept)');
    expect(stdout).toMatch(/failed:\n\s+1\s+ProvisionedThroughputExceededException: still throttled/);
    expect(await queueDepth(sqs, failureQueueUrl)).toBe(2);
    expect(await queueDepth(sqs, topic.queueUrl)).toBe(0);
  });
});

describe('redrive on a refresh DLQ', () => {
  it('sends a refresh DLQ message back to the queue whose redrive policy names the DLQ (--move-task falls back on moto)', async () => {
    // Prepare
    const stage = freshStage();
    const dlqUrl = await createQueue(sqs, `alma-cache-${stage}-loans-dlq`);
    // Not named by the convention: the source must come from SQS's own ListDeadLetterSourceQueues.
    const sourceUrl = await createQueue(sqs, `refresh-source-${stage}`, {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await queueArn(sqs, dlqUrl), maxReceiveCount: 3 }),
    });
    const body = '{"userID":"PAT0042X","loanID":"7391500230004561"}';
    await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: body }));

    // Act
    const listed = await redrive(['list', '--queue', 'loans-dlq', '--stage', stage]);
    const { code, stdout, stderr } = await redrive(['replay', '--queue', dlqUrl, '--to', 'source', '--yes', '--move-task']);

    // Assess
    expect(listed.stdout).toContain('loan refresh 7391500230004561 of PAT0042X');
    expect(code).toBe(0);
    expect(stderr).toContain('StartMessageMoveTask unavailable');
    expect(stdout).toContain(`sent to refresh-source-${stage}`);
    expect(stdout).toContain('replayed 1 (deleted 1), failed 0 (kept), skipped 0 (kept)');
    expect(await drainBodies(sqs, sourceUrl)).toEqual([body]);
    expect(await queueDepth(sqs, dlqUrl)).toBe(0);
  });

  it('sends a refresh message a function parked at once back without its refusal attributes, and refuses a malformed one', async () => {
    // Prepare: as update-loan parks them (aws-adapters sqs-batch-handler.ts): the body unchanged, the reason as attributes
    const stage = freshStage();
    const dlqUrl = await createQueue(sqs, `alma-cache-${stage}-loans-dlq`);
    const sourceUrl = await createQueue(sqs, `alma-cache-${stage}-loans`);
    const refused = (errorType: string, reason: string) => ({
      RefusedErrorType: { DataType: 'String', StringValue: errorType },
      RefusedReason: { DataType: 'String', StringValue: reason },
      traceparent: { DataType: 'String', StringValue: '00-abc-def-01' },
    });
    const good = '{"userID":"PAT0042X","loanID":"7391500230004561"}';
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: dlqUrl,
        MessageBody: good,
        MessageAttributes: refused('MalformedAlmaRecordError', 'Alma sent "loan.tombstone"'),
      }),
    );
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: dlqUrl,
        MessageBody: '{"userID":"PAT0042X"}',
        MessageAttributes: refused('MalformedRefreshMessageError', 'no loanID'),
      }),
    );

    // Act
    const listed = await redrive(['list', '--queue', 'loans-dlq', '--stage', stage]);
    const { code, stdout } = await redrive(['replay', '--queue', 'loans-dlq', '--stage', stage, '--to', 'source', '--yes']);

    // Assess
    expect(listed.stdout).toContain('MalformedAlmaRecordError: Alma sent "loan.tombstone" (refused at once, not received again)');
    expect(code).toBe(0);
    expect(stdout).toContain('replayed 1 (deleted 1), failed 0 (kept), skipped 0 (kept), refused 1 (kept)');
    expect(stdout).toMatch(
      /refused \(the function would refuse them again; left parked\):\n\s+1\s+MalformedRefreshMessageError: "loanID" is missing or not a string/,
    );
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: sourceUrl, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }));
    expect(Messages.map((message) => [message.Body, Object.keys(message.MessageAttributes ?? {})])).toEqual([[good, ['traceparent']]]);
    expect(await drainBodies(sqs, dlqUrl)).toEqual(['{"userID":"PAT0042X"}']);
  });

  it('gives a refresh DLQ message to its function as an SQS event and keeps it when reported in batchItemFailures', async () => {
    // Prepare
    const stage = freshStage();
    const dlqUrl = await createQueue(sqs, `alma-cache-${stage}-users-dlq`);
    await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: 'PAT-OK' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: 'PAT-ALMA-DOWN' }));
    // As the refresh handlers answer: the failed record's message id in batchItemFailures, never a throw.
    const handler: LambdaHandler = async (event) => {
      const records = (event as { Records: { messageId: string; body: string }[] }).Records;
      return { batchItemFailures: records.filter((record) => record.body !== 'PAT-OK').map((record) => ({ itemIdentifier: record.messageId })) };
    };

    // Act
    const { code, stdout } = await redrive(['replay', '--queue', 'users-dlq', '--stage', stage, '--to', 'handler', '--yes'], {
      loadHandler: async (fn) => {
        expect(fn).toMatchObject({ service: 'alma-cache-refresh', name: 'update-user' });
        return handler;
      },
    });

    // Assess
    expect(code).toBe(2);
    expect(stdout).toContain('replayed 1 (deleted 1), failed 1 (kept)');
    expect(stdout).toMatch(/BatchItemFailure: the function reported it in batchItemFailures/);
    expect(await drainBodies(sqs, dlqUrl)).toEqual(['PAT-ALMA-DOWN']);
  });
});

describe('redrive usage', () => {
  it('refuses an unknown flag or a missing --to before touching anything', async () => {
    // Act
    const unknown = await redrive(['replay', '--queue', 'failures', '--to', 'source', '--yess']);
    const noTarget = await redrive(['replay', '--queue', 'failures']);
    // The cache-update functions are no longer invoked asynchronously: there is no Event invocation to choose against.
    const sync = await redrive(['replay', '--queue', 'failures', '--to', 'handler', '--sync']);

    // Assess
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/Unknown option '--yess'/);
    expect(noTarget.code).toBe(1);
    expect(noTarget.stderr).toContain('--to source or --to handler is required');
    expect(sync.code).toBe(1);
    expect(sync.stderr).toMatch(/Unknown option '--sync'/);
  });
});

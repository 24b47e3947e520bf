// The CLI in this process against moto SQS/SNS (the shared global setup): messages parked as Lambda and SQS park
// them, then list / replay as an operator runs them. Each test has its own stage, so its queues start empty.
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { DEFAULT_EXPIRY_POLICY, RecordLoan } from '@alma-cache/cache-domain';
import { almaWebhookMessageAsOf, InMemoryCacheStore, InMemoryUserRefreshQueue, ManualClock } from '@alma-cache/cache-domain/testing';
import type { LambdaHandler } from '@alma-cache/local-aws';
import {
  clients,
  createQueue,
  drainBodies,
  failingWith,
  freshStage,
  parkFailedEvent,
  queueArn,
  queueDepth,
  redrive,
  topicWithQueue,
} from './support';

const { sqs, sns } = clients();
afterAll(() => {
  sqs.destroy();
  sns.destroy();
});

const DAY_MS = 24 * 3600 * 1000;

/** A failure queue holding a malformed event and a good one that failed (DynamoDB throttled), as Lambda parks them. */
const parkedFailures = async () => {
  const stage = freshStage();
  const failureQueueUrl = await createQueue(sqs, `alma-cache-${stage}-sns-lambdas-failures`);
  const topic = await topicWithQueue(sqs, sns, `LOAN_CREATED-${stage}`);
  // Dated as if received now: the replay runs on the real clock, and the domain refuses events past the replay horizon.
  const good = almaWebhookMessageAsOf('LOAN_CREATED', new Date());
  await parkFailedEvent(sqs, failureQueueUrl, topic.topicArn, '{"event":', failingWith('MalformedEventError', 'the message is not JSON'), stage);
  await parkFailedEvent(sqs, failureQueueUrl, topic.topicArn, good, failingWith('ProvisionedThroughputExceededException', 'throttled'), stage);
  return { stage, failureQueueUrl, topic, good };
};

describe('redrive list', () => {
  it('shows each parked event with its reason and attempts, counts per reason, and consumes nothing', async () => {
    // Prepare
    const { stage, failureQueueUrl } = await parkedFailures();

    // Act
    const { code, stdout } = await redrive(['list', '--queue', 'failures', '--stage', stage]);

    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain(`alma-cache-${stage}-sns-lambdas-failures: 2 message(s)`);
    expect(stdout).toMatch(/lambda-failure\s+not JSON: \{"event":\s+3\s+MalformedEventError: the message is not JSON/);
    expect(stdout).toMatch(/lambda-failure\s+LOAN_CREATED loan \S+ of \S+\s+3\s+ProvisionedThroughputExceededException: throttled/);
    expect(stdout).toMatch(/per reason:\n\s+1\s+MalformedEventError\n\s+1\s+ProvisionedThroughputExceededException/);
    // Visible again at once: a second look sees both.
    expect((await redrive(['list', '--queue', 'failures', '--stage', stage, '--json'])).stdout).toContain('"reasonKey": "MalformedEventError"');
    expect(await queueDepth(sqs, failureQueueUrl)).toBe(2);
  });
});

describe('redrive replay --to source', () => {
  it('is a dry run without --yes: says what it would do and changes nothing', async () => {
    // Prepare
    const { stage, failureQueueUrl, topic } = await parkedFailures();

    // Act
    const { code, stdout } = await redrive(['replay', '--queue', 'failures', '--stage', stage, '--to', 'source']);
    const explicit = await redrive(['replay', '--queue', 'failures', '--stage', stage, '--to', 'source', '--yes', '--dry-run']);

    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain('dry run: 1 would be replayed, 0 skipped, 1 refused; nothing was sent or deleted (add --yes to act)');
    expect(stdout).toContain(`publish to LOAN_CREATED-${stage}`);
    expect(stdout).toMatch(/refused \(the function would refuse them again; left parked\):\n\s+1\s+MalformedEventError: message is not JSON/);
    expect(explicit.stdout).toContain('dry run: 1 would be replayed');
    expect(await queueDepth(sqs, failureQueueUrl)).toBe(2);
    expect(await queueDepth(sqs, topic.queueUrl)).toBe(0);
  });

  it('publishes each event to its topic again and deletes only those; a failed publish, a malformed event and a stream record stay', async () => {
    // Prepare
    const { stage, failureQueueUrl, topic, good } = await parkedFailures();
    // A record whose topic is gone: the publish fails, so the message must stay.
    await parkFailedEvent(sqs, failureQueueUrl, `arn:aws:sns:eu-west-1:000000000000:gone-${stage}`, good, failingWith('Error', 'boom'), stage);
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
    const { code, stdout, stderr } = await redrive(['replay', '--queue', 'failures', '--stage', stage, '--to', 'source', '--yes']);

    // Assess
    expect(code).toBe(2);
    expect(stdout).toContain('replayed 1 (deleted 1), failed 1 (kept), skipped 1 (kept), refused 1 (kept)');
    expect(stdout).toMatch(/failed:\n\s+1\s+NotFound.*/);
    expect(stdout).toMatch(/skipped:\n\s+1\s+a stream on-failure record names the shard/);
    expect(stdout).toMatch(/refused \(the function would refuse them again; left parked\):\n\s+1\s+MalformedEventError: message is not JSON/);
    expect(stderr).toMatch(/\[#{30}\] 4\/4 100%/);
    const delivered = (await drainBodies(sqs, topic.queueUrl)).map((body) => JSON.parse(body).Message);
    expect(delivered).toEqual([good]);
    expect(await queueDepth(sqs, failureQueueUrl)).toBe(3);
    const left = await redrive(['list', '--queue', 'failures', '--stage', stage]);
    expect(left.stdout).toMatch(/per reason:\n\s+1\s+Error\n\s+1\s+MalformedEventError\n\s+1\s+stream batch RetryAttemptsExhausted/);
  });

  it('with --reason replays only the messages failed for that reason and keeps the others', async () => {
    // Prepare
    const { stage, failureQueueUrl, topic, good } = await parkedFailures();

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
    expect((await drainBodies(sqs, topic.queueUrl)).map((body) => JSON.parse(body).Message)).toEqual([good]);
    expect(await queueDepth(sqs, failureQueueUrl)).toBe(1);
  });

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
});

describe('redrive replay --to handler', () => {
  it('gives the SNS event to the function that failed; a handler that fails again keeps its message, a malformed one is not given', async () => {
    // Prepare: besides the malformed and the good event, one the function fails on again (still throttled)
    const { stage, failureQueueUrl, topic, good } = await parkedFailures();
    const throttled = almaWebhookMessageAsOf('LOAN_CREATED', new Date(), { eventId: '5500119999', itemId: '7391500239999999' });
    await parkFailedEvent(sqs, failureQueueUrl, topic.topicArn, throttled, failingWith('ProvisionedThroughputExceededException', 'throttled'), stage);
    const received: string[] = [];
    const handler: LambdaHandler = async (event) => {
      const message = (event as { Records: { Sns: { Message: string } }[] }).Records[0].Sns.Message;
      received.push(message);
      if (message !== good) throw Object.assign(new Error('still throttled'), { name: 'ProvisionedThroughputExceededException' });
    };
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
  });

  it('refuses an event that aged past the replay horizon while parked, with the reason the function gives, to either target, and leaves it parked', async () => {
    // Prepare: a LOAN_CREATED parked for a throttle 22 days ago (a returned loan's create: replayed, it could revive it)
    const stage = freshStage();
    const failureQueueUrl = await createQueue(sqs, `alma-cache-${stage}-sns-lambdas-failures`);
    const topic = await topicWithQueue(sqs, sns, `LOAN_CREATED-${stage}`);
    const old = almaWebhookMessageAsOf('LOAN_CREATED', new Date(Date.now() - 22 * DAY_MS));
    await parkFailedEvent(sqs, failureQueueUrl, topic.topicArn, old, failingWith('ProvisionedThroughputExceededException', 'throttled'), stage);
    const invoked: string[] = [];

    // Act
    const toSource = await redrive(['replay', '--queue', 'failures', '--stage', stage, '--to', 'source', '--yes']);
    const toHandler = await redrive(['replay', '--queue', 'failures', '--stage', stage, '--to', 'handler', '--yes'], {
      loadHandler: async (fn) => {
        invoked.push(fn.name);
        return async () => undefined;
      },
    });

    // Assess: the function's own use case, on the same clock, gives the same reason.
    const theFunction = new RecordLoan({
      store: new InMemoryCacheStore(),
      refreshQueue: new InMemoryUserRefreshQueue(),
      clock: new ManualClock(new Date().toISOString()),
      expiry: DEFAULT_EXPIRY_POLICY,
    });
    const reason = await theFunction.execute(old).then(
      () => 'accepted',
      (error: Error) => `${error.name}: ${error.message}`,
    );
    expect(reason).toMatch(/^MalformedEventError: Alma event \S+: "time" \S+ is older than the replay horizon \(21 days\)/);
    for (const run of [toSource, toHandler]) {
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('replayed 0 (deleted 0), failed 0 (kept), skipped 0 (kept), refused 1 (kept)');
      expect(run.stdout).toContain(`refused  `);
      expect(run.stdout).toContain(reason);
    }
    expect(invoked).toEqual([]);
    expect(await queueDepth(sqs, topic.queueUrl)).toBe(0);
    expect(await queueDepth(sqs, failureQueueUrl)).toBe(1);
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

    // Assess
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/Unknown option '--yess'/);
    expect(noTarget.code).toBe(1);
    expect(noTarget.stderr).toContain('--to source or --to handler is required');
  });
});

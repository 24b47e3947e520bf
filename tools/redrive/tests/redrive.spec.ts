// The CLI in this process against moto SQS/SNS (the shared global setup): messages parked as Lambda and SQS park
// them, then list / replay as an operator runs them. Each test has its own stage, so its queues start empty.
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { almaWebhookMessage } from '@alma-cache/cache-domain/testing';
import type { LambdaHandler } from '@alma-cache/local-aws';
import { clients, createQueue, drainBodies, failingWith, freshStage, parkFailedEvent, queueArn, queueDepth, redrive, topicWithQueue } from './support';

const { sqs, sns } = clients();
afterAll(() => {
  sqs.destroy();
  sns.destroy();
});

/** A failure queue holding a malformed event and a good one that failed (DynamoDB throttled), as Lambda parks them. */
const parkedFailures = async () => {
  const stage = freshStage();
  const failureQueueUrl = await createQueue(sqs, `alma-cache-${stage}-sns-lambdas-failures`);
  const topic = await topicWithQueue(sqs, sns, `LOAN_CREATED-${stage}`);
  const good = almaWebhookMessage('LOAN_CREATED');
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
    expect(stdout).toContain('dry run: 2 would be replayed, 0 skipped; nothing was sent or deleted (add --yes to act)');
    expect(stdout).toContain(`publish to LOAN_CREATED-${stage}`);
    expect(explicit.stdout).toContain('dry run: 2 would be replayed');
    expect(await queueDepth(sqs, failureQueueUrl)).toBe(2);
    expect(await queueDepth(sqs, topic.queueUrl)).toBe(0);
  });

  it('publishes each event to its topic again and deletes only those; a failed publish and a stream record stay', async () => {
    // Prepare
    const { stage, failureQueueUrl, topic, good } = await parkedFailures();
    // A record whose topic is gone: the publish fails, so the message must stay.
    await parkFailedEvent(sqs, failureQueueUrl, `arn:aws:sns:eu-west-1:000000000000:gone-${stage}`, good, failingWith('Error', 'boom'), stage);
    const streamRecord = {
      requestContext: { functionArn: `arn:aws:lambda:eu-west-1:000000000000:function:alma-cache-changes-${stage}-publish-changes`, condition: 'RetryAttemptsExhausted' },
      DDBStreamBatchInfo: { shardId: 'shardId-1', startSequenceNumber: '1', endSequenceNumber: '9', batchSize: 2, streamArn: 'arn:aws:dynamodb:eu-west-1:0:table/t/stream/s' },
    };
    await sqs.send(new SendMessageCommand({ QueueUrl: failureQueueUrl, MessageBody: JSON.stringify(streamRecord) }));

    // Act
    const { code, stdout, stderr } = await redrive(['replay', '--queue', 'failures', '--stage', stage, '--to', 'source', '--yes']);

    // Assess
    expect(code).toBe(2);
    expect(stdout).toContain('replayed 2 (deleted 2), failed 1 (kept), skipped 1 (kept)');
    expect(stdout).toMatch(/failed:\n\s+1\s+NotFound.*/);
    expect(stdout).toMatch(/skipped:\n\s+1\s+a stream on-failure record names the shard/);
    expect(stderr).toMatch(/\[#{30}\] 4\/4 100%/);
    const delivered = (await drainBodies(sqs, topic.queueUrl)).map((body) => JSON.parse(body).Message).sort();
    expect(delivered).toEqual(['{"event":', good].sort());
    expect(await queueDepth(sqs, failureQueueUrl)).toBe(2);
    const left = await redrive(['list', '--queue', 'failures', '--stage', stage]);
    expect(left.stdout).toMatch(/per reason:\n\s+1\s+Error\n\s+1\s+stream batch RetryAttemptsExhausted/);
  });

  it('with --reason replays only the messages failed for that reason and keeps the others', async () => {
    // Prepare
    const { stage, failureQueueUrl, topic, good } = await parkedFailures();

    // Act
    const { code, stdout } = await redrive(['replay', '--queue', 'failures', '--stage', stage, '--to', 'source', '--yes', '--reason', 'ProvisionedThroughputExceededException']);

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
});

describe('redrive replay --to handler', () => {
  it('gives the SNS event to the function that failed; a handler that fails again keeps its message', async () => {
    // Prepare
    const { stage, failureQueueUrl, good } = await parkedFailures();
    const received: string[] = [];
    const handler: LambdaHandler = async (event) => {
      const message = (event as { Records: { Sns: { Message: string } }[] }).Records[0].Sns.Message;
      if (message !== good) throw Object.assign(new Error('still malformed'), { name: 'MalformedEventError' });
      received.push(message);
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
    expect(received).toEqual([good]);
    expect(new Set(loaded)).toEqual(new Set(['alma-cache-sns/loan-updated']));
    expect(stdout).toContain('replayed 1 (deleted 1), failed 1 (kept), skipped 0 (kept)');
    expect(stdout).toMatch(/failed:\n\s+1\s+MalformedEventError: still malformed/);
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

import { almaWebhookMessage } from '@alma-cache/cache-domain/testing';
import { snsEvent } from '@alma-cache/local-aws';
import { classifyMessage, functionFor } from '../../classify';

const onFailureRecord = (event: unknown, errorType: string, errorMessage: string) =>
  JSON.stringify({
    version: '1.0',
    requestContext: {
      requestId: 'r1',
      functionArn: 'arn:aws:lambda:eu-west-1:1:function:alma-cache-sns-prod-loan-returned',
      condition: 'RetriesExhausted',
      approximateInvokeCount: 3,
    },
    requestPayload: event,
    responseContext: { statusCode: 200, functionError: 'Unhandled' },
    responsePayload: { errorType, errorMessage },
  });

describe('classifyMessage', () => {
  it('reads a Lambda on-failure record: the SNS message, the reason, the attempts and the function', () => {
    // Prepare
    const message = almaWebhookMessage('LOAN_RETURNED');
    const body = onFailureRecord(snsEvent('arn:aws:sns:eu-west-1:1:LOAN_RETURNED', message), 'ProvisionedThroughputExceededException', 'slow down');

    // Act
    const parked = classifyMessage(
      { MessageId: 'm1', Body: body, Attributes: { ApproximateReceiveCount: '1' } },
      'alma-cache-prod-sns-lambdas-failures',
    );

    // Assess
    expect(parked).toMatchObject({
      kind: 'lambda-failure',
      reasonKey: 'ProvisionedThroughputExceededException',
      reason: 'ProvisionedThroughputExceededException: slow down',
      attempts: 3,
      sns: { topicArn: 'arn:aws:sns:eu-west-1:1:LOAN_RETURNED', message },
    });
    expect(parked.subject).toBe(`LOAN_RETURNED loan event of ${JSON.parse(message).time}`);
    expect(functionFor(parked)).toEqual({ service: 'alma-cache-sns', name: 'loan-returned' });
  });

  it('keeps an on-failure record of a damaged envelope, with no SNS message to publish', () => {
    // Prepare
    const body = onFailureRecord({ Records: [] }, 'InvalidSnsEventError', 'not one SNS record');

    // Act
    const parked = classifyMessage({ MessageId: 'm2', Body: body }, 'alma-cache-stg-sns-lambdas-failures');

    // Assess
    expect(parked).toMatchObject({ kind: 'lambda-failure', reasonKey: 'InvalidSnsEventError', subject: 'not an SNS event' });
    expect(parked.sns).toBeUndefined();
  });

  it('reads a raw SNS notification parked by a subscription redrive, and finds its function by the Alma event', () => {
    // Prepare
    const envelope = {
      Type: 'Notification',
      MessageId: 'n1',
      TopicArn: 'arn:aws:sns:eu-west-1:1:some-renamed-topic',
      Message: almaWebhookMessage('REQUEST_CANCELED'),
    };

    // Act
    const parked = classifyMessage({ MessageId: 'm3', Body: JSON.stringify(envelope) }, 'alma-cache-stg-sns-lambdas-failures');

    // Assess
    expect(parked).toMatchObject({ kind: 'sns-redrive', reasonKey: 'SNS delivery failed', sns: { topicArn: envelope.TopicArn } });
    expect(functionFor(parked)).toEqual({ service: 'alma-cache-sns', name: 'request-closed' });
  });

  it('marks a stream on-failure record as not replayable, naming shard and sequence range', () => {
    // Prepare
    const body = JSON.stringify({
      requestContext: {
        functionArn: 'arn:aws:lambda:eu-west-1:1:function:alma-cache-changes-stg-publish-changes',
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 11,
      },
      responseContext: { statusCode: 200, functionError: 'Unhandled' },
      DDBStreamBatchInfo: {
        shardId: 'shardId-0001',
        startSequenceNumber: '100',
        endSequenceNumber: '199',
        batchSize: 3,
        streamArn: 'arn:aws:dynamodb:eu-west-1:1:table/alma-cache-stg-loans/stream/2024',
      },
    });

    // Act
    const parked = classifyMessage({ MessageId: 'm4', Body: body }, 'alma-cache-stg-change-lambdas-failures');

    // Assess
    expect(parked.kind).toBe('stream-batch');
    expect(parked.reason).toContain('shard shardId-0001, sequence 100…199');
    expect(parked.notReplayable).toMatch(/read them from the stream/);
  });

  it('reads refresh DLQ messages by the queue they sit in, and says when one is malformed', () => {
    // Act
    const loan = classifyMessage({ MessageId: 'a', Body: '{"userID":"PAT1","loanID":"L9"}' }, 'alma-cache-stg-loans-dlq');
    const patron = classifyMessage({ MessageId: 'b', Body: 'PAT0042X' }, 'alma-cache-stg-users-dlq');
    const broken = classifyMessage({ MessageId: 'c', Body: '{"userID":"PAT1"}' }, 'alma-cache-stg-fees-dlq');

    // Assess
    expect(loan).toMatchObject({ kind: 'refresh-request', subject: 'loan refresh L9 of PAT1', refresh: { queueKind: 'loans' } });
    expect(patron).toMatchObject({ kind: 'refresh-request', subject: 'patron refresh of PAT0042X' });
    expect(functionFor(patron)).toEqual({ service: 'alma-cache-refresh', name: 'update-user' });
    expect(broken).toMatchObject({ kind: 'refresh-request', reasonKey: 'MalformedRefreshMessageError' });
  });

  it('reads a record the function parked itself when it refused the event: one attempt, the reason, the function', () => {
    // Prepare: as apps/sns-lambdas writes it (sns-handler.ts refusalRecord)
    const message = almaWebhookMessage('LOAN_RETURNED').replace(/"loan_id":"[^"]*"/, '"loan_id":""');
    const body = JSON.stringify({
      version: '1.0',
      timestamp: '2026-12-10T17:00:00.000Z',
      requestContext: {
        requestId: 'r1',
        functionArn: 'arn:aws:lambda:eu-west-1:1:function:alma-cache-sns-prod-loan-returned',
        condition: 'RefusedAsInvalid',
        approximateInvokeCount: 1,
      },
      requestPayload: snsEvent('arn:aws:sns:eu-west-1:1:LOAN_RETURNED', message),
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Handled' },
      responsePayload: { errorType: 'MalformedEventError', errorMessage: 'Alma event 5500110004: "item_loan.loan_id" is empty', trace: [] },
    });

    // Act
    const parked = classifyMessage({ MessageId: 'm5', Body: body }, 'alma-cache-prod-sns-lambdas-failures');

    // Assess
    expect(parked).toMatchObject({
      kind: 'lambda-failure',
      reasonKey: 'MalformedEventError',
      reason: 'MalformedEventError: Alma event 5500110004: "item_loan.loan_id" is empty',
      attempts: 1,
      sns: { message },
    });
    expect(functionFor(parked)).toEqual({ service: 'alma-cache-sns', name: 'loan-returned' });
  });

  it('reads the reason a refresh function gave when it sent a message to its DLQ at once', () => {
    // Act
    const parked = classifyMessage(
      {
        MessageId: 'r',
        Body: '{"userID":"PAT1","loanID":"L9"}',
        MessageAttributes: {
          RefusedErrorType: { DataType: 'String', StringValue: 'MalformedAlmaRecordError' },
          RefusedReason: { DataType: 'String', StringValue: '"loan.tombstone" is named like one of the cache\'s own attributes' },
        },
      },
      'alma-cache-stg-loans-dlq',
    );

    // Assess
    expect(parked).toMatchObject({
      kind: 'refresh-request',
      reasonKey: 'MalformedAlmaRecordError',
      reason: 'MalformedAlmaRecordError: "loan.tombstone" is named like one of the cache\'s own attributes (refused at once, not received again)',
    });
  });

  it('reads an event a cache-update function refused at once: its reason from the attributes, its function from the DLQ', () => {
    // Prepare: as the function parks it (aws-adapters sqs-batch-handler.ts): the raw body, the reason as attributes
    const message = almaWebhookMessage('REQUEST_CANCELED', { userPrimaryId: 'PAT0042X', itemId: '8821' });

    // Act
    const parked = classifyMessage(
      {
        MessageId: 'e1',
        Body: message,
        Attributes: { ApproximateReceiveCount: '1' },
        MessageAttributes: {
          RefusedErrorType: { DataType: 'String', StringValue: 'MalformedEventError' },
          RefusedReason: { DataType: 'String', StringValue: 'Alma event 5500110007: "time" is more than 300 s in the future' },
        },
      },
      'alma-cache-prod-request-closed-dlq',
    );

    // Assess
    expect(parked).toMatchObject({
      kind: 'alma-event',
      reasonKey: 'MalformedEventError',
      reason: 'MalformedEventError: Alma event 5500110007: "time" is more than 300 s in the future (refused at once, not received again)',
      subject: `REQUEST_CANCELED request event of ${JSON.parse(message).time}`,
      event: { fn: 'request-closed', almaEvent: 'REQUEST_CANCELED' },
    });
    expect(parked.subject).not.toMatch(/PAT0042X|8821/);
    expect(functionFor(parked)).toEqual({ service: 'alma-cache-sns', name: 'request-closed' });
  });

  it('reads an event SQS moved to a cache-update DLQ after its last receive: the receives, no refusal', () => {
    // Act
    const parked = classifyMessage(
      { MessageId: 'e2', Body: almaWebhookMessage('LOAN_CREATED'), Attributes: { ApproximateReceiveCount: '13' } },
      'alma-cache-stg-loan-updated-dlq',
    );
    const notJson = classifyMessage({ MessageId: 'e3', Body: '{"user_id":"PAT0042X"' }, 'alma-cache-stg-loan-updated-dlq');

    // Assess
    expect(parked).toMatchObject({ kind: 'alma-event', reasonKey: 'loan-updated failed its receives', receiveCount: 13 });
    expect(parked.reason).toMatch(/^failed 13 receives \(ApproximateReceiveCount, this read included\), then SQS moved it here/);
    expect(notJson.subject).toBe('not JSON (21 characters)');
  });

  it('calls anything else unknown and not replayable', () => {
    // Act
    const parked = classifyMessage({ MessageId: 'x', Body: 'hello' }, 'alma-cache-stg-sns-lambdas-failures');

    // Assess
    expect(parked).toMatchObject({ kind: 'unknown' });
    expect(parked.notReplayable).toBeDefined();
  });

  it.each([
    ['an Alma event and a topic named after Object.prototype', 'constructor', 'arn:aws:sns:eu-west-1:1:toString'],
    ['no Alma event and a topic named __proto__', undefined, 'arn:aws:sns:eu-west-1:1:__proto__'],
  ])('names no function for %s', (_what, almaEvent, topicArn) => {
    // Prepare: a raw SNS notification whose event type and topic come from the parked message itself
    const parked = { sns: { topicArn, message: '{}', attributes: {}, event: {}, almaEvent } } as unknown as Parameters<typeof functionFor>[0];

    // Act
    const fn = functionFor(parked);

    // Assess
    expect(fn).toBeUndefined();
  });
});

import { DEFAULT_EXPIRY_POLICY, RecordLoan, RemoveLoan } from '@alma-cache/cache-domain';
import {
  almaWebhookMessage,
  almaWebhookMessageAsOf,
  InMemoryCacheStore,
  InMemoryUserRefreshQueue,
  ManualClock,
  SAMPLES_RECEIVED_AT,
} from '@alma-cache/cache-domain/testing';
import { snsEvent } from '@alma-cache/local-aws';
import { classifyMessage } from '../../classify';
import { refusalNow } from '../../recheck';

const DAY_MS = 24 * 3600 * 1000;
const FAILURES = 'alma-cache-stg-sns-lambdas-failures';

/** A failure-queue record of `function`, as Lambda's destination or the function itself writes it. */
const parkedRecord = (fn: string, topic: string, message: string, condition = 'RetriesExhausted') =>
  classifyMessage(
    {
      MessageId: 'm1',
      Body: JSON.stringify({
        version: '1.0',
        requestContext: {
          requestId: 'r1',
          functionArn: `arn:aws:lambda:eu-west-1:1:function:alma-cache-sns-stg-${fn}`,
          condition,
          approximateInvokeCount: 3,
        },
        requestPayload: snsEvent(`arn:aws:sns:eu-west-1:1:${topic}`, message),
        responseContext: { statusCode: 200, functionError: 'Unhandled' },
        responsePayload: { errorType: 'ProvisionedThroughputExceededException', errorMessage: 'slow down' },
      }),
    },
    FAILURES,
  );

/** What the function's own use case answers for `message` at `now`: its error as `<name>: <message>`. */
const functionRefusal = async (useCase: 'RecordLoan' | 'RemoveLoan', message: string, now: Date): Promise<string> => {
  const deps = {
    store: new InMemoryCacheStore(),
    refreshQueue: new InMemoryUserRefreshQueue(),
    clock: new ManualClock(now.toISOString()),
    expiry: DEFAULT_EXPIRY_POLICY,
  };
  const run = useCase === 'RecordLoan' ? new RecordLoan(deps).execute(message) : new RemoveLoan(deps).execute(message);
  return run.then(
    () => 'accepted',
    (error: Error) => `${error.name}: ${error.message}`,
  );
};

describe('Function: refusalNow', () => {
  const now = new Date(SAMPLES_RECEIVED_AT);

  it('takes an event the function would take now', () => {
    // Act
    const refusal = refusalNow(parkedRecord('loan-updated', 'LOAN_CREATED', almaWebhookMessage('LOAN_CREATED')), now);

    // Assess
    expect(refusal).toBeUndefined();
  });

  it('refuses an event that aged past the replay horizon while parked, in the words of the function', async () => {
    // Prepare: a LOAN_CREATED parked 22 days ago for a throttle, replayed today
    const message = almaWebhookMessageAsOf('LOAN_CREATED', new Date(now.getTime() - 22 * DAY_MS));

    // Act
    const refusal = refusalNow(parkedRecord('loan-updated', 'LOAN_CREATED', message), now);

    // Assess
    expect(refusal).toMatch(/^MalformedEventError: Alma event \S+: "time" \S+ is older than the replay horizon \(21 days\)/);
    expect(refusal).toBe(await functionRefusal('RecordLoan', message, now));
  });

  it('refuses an event dated too far ahead, malformed ones, and one the named function does not handle, each as the function would', async () => {
    // Prepare
    const future = almaWebhookMessageAsOf('LOAN_RETURNED', new Date(now.getTime() + DAY_MS));
    const noLoanId = almaWebhookMessage('LOAN_RETURNED').replace(/"loan_id":"[^"]*"/, '"loan_id":""');
    const created = almaWebhookMessage('LOAN_CREATED');

    // Act
    const refusals = [future, noLoanId, created].map((message) => refusalNow(parkedRecord('loan-returned', 'LOAN_RETURNED', message), now));

    // Assess
    expect(refusals).toEqual([
      await functionRefusal('RemoveLoan', future, now),
      await functionRefusal('RemoveLoan', noLoanId, now),
      await functionRefusal('RemoveLoan', created, now),
    ]);
    expect(refusals.map((refusal) => refusal?.split(':')[0])).toEqual(['MalformedEventError', 'MalformedEventError', 'UnsupportedEventTypeError']);
  });

  it('reads an event on a cache-update DLQ as the function of that DLQ reads it: past the horizon refused, a good one taken', async () => {
    // Prepare: the raw webhook bodies, as the queue held them
    const old = almaWebhookMessageAsOf('LOAN_CREATED', new Date(now.getTime() - 22 * DAY_MS));
    const onDlq = (body: string, dlq: string) => classifyMessage({ MessageId: 'd', Body: body }, `alma-cache-stg-${dlq}`);

    // Act
    const refusals = [
      refusalNow(onDlq(old, 'loan-updated-dlq'), now),
      refusalNow(onDlq(almaWebhookMessage('LOAN_CREATED'), 'loan-updated-dlq'), now),
      // On the wrong function's DLQ (loan-returned takes LOAN_RETURNED only): refused as that function would.
      refusalNow(onDlq(almaWebhookMessage('LOAN_CREATED'), 'loan-returned-dlq'), now),
    ];

    // Assess
    expect(refusals).toEqual([
      await functionRefusal('RecordLoan', old, now),
      undefined,
      await functionRefusal('RemoveLoan', almaWebhookMessage('LOAN_CREATED'), now),
    ]);
    expect(refusals[0]).toMatch(/older than the replay horizon \(21 days\)/);
  });

  it('refuses again a record whose payload was refused as no SNS event, with its reason', () => {
    // Prepare
    const parked = classifyMessage(
      {
        MessageId: 'm2',
        Body: JSON.stringify({
          requestContext: {
            functionArn: 'arn:aws:lambda:eu-west-1:1:function:alma-cache-sns-stg-loan-updated',
            condition: 'RefusedAsInvalid',
            approximateInvokeCount: 1,
          },
          requestPayload: { Records: [] },
          responsePayload: {
            errorType: 'InvalidSnsEventError',
            errorMessage: 'not an SNS notification event: SNS delivers exactly one record per invocation; this event has 0',
          },
        }),
      },
      FAILURES,
    );

    // Act
    const refusal = refusalNow(parked, now);

    // Assess
    expect(refusal).toBe('InvalidSnsEventError: not an SNS notification event: SNS delivers exactly one record per invocation; this event has 0');
  });

  it('refuses a malformed refresh message by its queue parser and takes a good one', () => {
    // Act
    const broken = refusalNow(classifyMessage({ MessageId: 'a', Body: '{"userID":"PAT1"}' }, 'alma-cache-stg-users-dlq'), now);
    const noFeeId = refusalNow(classifyMessage({ MessageId: 'b', Body: '{"userID":"PAT1","loanID":"L1"}' }, 'alma-cache-stg-fees-dlq'), now);
    const good = refusalNow(classifyMessage({ MessageId: 'c', Body: '{"userID":"PAT1","loanID":"L1"}' }, 'alma-cache-stg-loans-dlq'), now);

    // Assess
    expect(broken).toBe('MalformedRefreshMessageError: the body is JSON, but the Users queue takes a bare patron id');
    expect(noFeeId).toMatch(/^MalformedRefreshMessageError: "feeID" is missing/);
    expect(good).toBeUndefined();
  });

  it('leaves a record naming a function that shares a name with an Object.prototype member to the replay target', () => {
    // Prepare: the function name comes from the hostile record body (alma-cache-sns-stg-constructor)
    const parked = ['constructor', 'toString', '__proto__'].map((fn) => parkedRecord(fn, 'LOAN_CREATED', almaWebhookMessage('LOAN_CREATED')));

    // Act
    const refusals = parked.map((message) => refusalNow(message, now));

    // Assess
    expect(refusals).toEqual([undefined, undefined, undefined]);
  });

  it('leaves a message of no known function to the replay target', () => {
    // Act
    const refusal = refusalNow(classifyMessage({ MessageId: 'x', Body: 'hello' }, FAILURES), now);

    // Assess
    expect(refusal).toBeUndefined();
  });
});

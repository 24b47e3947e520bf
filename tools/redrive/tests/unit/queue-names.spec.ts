import type { SQSClient } from '@aws-sdk/client-sqs';
import { EVENT_FUNCTIONS, eventFunctionOfDlq, eventQueueUrl, refreshKindOfDlq, resolveQueueUrl, resolveSourceQueueUrl } from '../../queue-names';

const QUEUES = 'https://sqs.eu-west-1.amazonaws.com/123456789012';

/** An SQS client that knows every queue name, and answers ListDeadLetterSourceQueues with `sources` (or fails). */
const stubSqs = (sources: string[] | Error) => {
  const asked: string[] = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: { QueueName?: string; QueueUrl?: string } }) => {
      asked.push(command.constructor.name);
      if (command.constructor.name === 'GetQueueUrlCommand') return { QueueUrl: `${QUEUES}/${command.input.QueueName}` };
      if (sources instanceof Error) throw sources;
      return { queueUrls: sources };
    },
  } as unknown as SQSClient;
  return { client, asked };
};

describe('Function: eventFunctionOfDlq', () => {
  it('names the cache-update function of each of the four DLQs, and none for another queue', () => {
    // Act
    const named = EVENT_FUNCTIONS.map((fn) => eventFunctionOfDlq(`alma-cache-prod-${fn}-dlq`));
    const others = ['alma-cache-prod-loan-updated', 'alma-cache-prod-loans-dlq', 'alma-cache-prod-sns-lambdas-failures'].map(eventFunctionOfDlq);

    // Assess
    expect(named).toEqual(['loan-updated', 'loan-returned', 'request-updated', 'request-closed']);
    expect(others).toEqual([undefined, undefined, undefined]);
    expect(refreshKindOfDlq('alma-cache-prod-loan-updated-dlq')).toBeUndefined();
  });
});

describe('Function: resolveQueueUrl', () => {
  it('turns each DLQ alias into alma-cache-<stage>-<fn>-dlq', async () => {
    // Prepare
    const { client } = stubSqs([]);

    // Act
    const urls = await Promise.all(EVENT_FUNCTIONS.map((fn) => resolveQueueUrl(client, `${fn}-dlq`, 'stg')));

    // Assess
    expect(urls).toEqual(EVENT_FUNCTIONS.map((fn) => `${QUEUES}/alma-cache-stg-${fn}-dlq`));
  });
});

describe('Function: resolveSourceQueueUrl', () => {
  it('takes the queue SQS names as the source of a cache-update DLQ', async () => {
    // Prepare
    const { client } = stubSqs([`${QUEUES}/renamed-loan-updated`]);

    // Act
    const source = await resolveSourceQueueUrl(client, `${QUEUES}/alma-cache-stg-loan-updated-dlq`, undefined, 'stg');

    // Assess
    expect(source).toBe(`${QUEUES}/renamed-loan-updated`);
  });

  it('strips -dlq from the name when SQS names no source or may not be asked', async () => {
    // Prepare
    const none = stubSqs([]);
    const denied = stubSqs(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }));

    // Act
    const fromNone = await resolveSourceQueueUrl(none.client, `${QUEUES}/alma-cache-stg-request-closed-dlq`, undefined, 'stg');
    const fromDenied = await resolveSourceQueueUrl(denied.client, `${QUEUES}/alma-cache-prod-loan-returned-dlq`, undefined, 'prod');

    // Assess
    expect(fromNone).toBe(`${QUEUES}/alma-cache-stg-request-closed`);
    expect(fromDenied).toBe(`${QUEUES}/alma-cache-prod-loan-returned`);
  });
});

describe('Function: eventQueueUrl', () => {
  it("finds a function's queue in the stage of the queue being replayed, else in --stage", async () => {
    // Prepare
    const { client } = stubSqs([]);

    // Act
    const near = await eventQueueUrl(client, 'loan-updated', 'alma-cache-prod-sns-lambdas-failures', 'stg');
    const byStage = await eventQueueUrl(client, 'request-updated', 'my-own-failures', 'stg');

    // Assess
    expect([near, byStage]).toEqual([`${QUEUES}/alma-cache-prod-loan-updated`, `${QUEUES}/alma-cache-stg-request-updated`]);
  });
});

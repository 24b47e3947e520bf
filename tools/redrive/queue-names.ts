import { GetQueueAttributesCommand, GetQueueUrlCommand, ListDeadLetterSourceQueuesCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** The refresh queues whose DLQs hold bare patron ids or `{"userID","…ID"}` bodies. */
export type RefreshQueueKind = 'users' | 'loans' | 'requests' | 'fees';

/**
 * The cache-update functions (apps/sns-lambdas), each reading its own queue `alma-cache-<stage>-<fn>` (the raw Alma
 * webhook body, delivered raw by its topics) with its DLQ `alma-cache-<stage>-<fn>-dlq`.
 */
export const EVENT_FUNCTIONS = ['loan-updated', 'loan-returned', 'request-updated', 'request-closed'] as const;
export type EventFunction = (typeof EVENT_FUNCTIONS)[number];

/**
 * The short names `--queue` accepts, each the suffix of a queue the stacks create as `alma-cache-<stage>-<suffix>`
 * (see the serverless.yml of sns-lambdas, refresh-lambdas and change-lambdas).
 */
export const QUEUE_ALIASES = {
  failures: 'sns-lambdas-failures',
  'users-dlq': 'users-dlq',
  'loans-dlq': 'loans-dlq',
  'requests-dlq': 'requests-dlq',
  'fees-dlq': 'fees-dlq',
  'loan-updated-dlq': 'loan-updated-dlq',
  'loan-returned-dlq': 'loan-returned-dlq',
  'request-updated-dlq': 'request-updated-dlq',
  'request-closed-dlq': 'request-closed-dlq',
  'changes-failures': 'change-lambdas-failures',
} as const satisfies Record<string, string>;

/** The queue's name: the last path segment of its URL. */
export const queueNameOf = (queueUrl: string): string => queueUrl.split('/').pop() ?? queueUrl;

/** The stage of a stack queue name (`alma-cache-stg-loans-dlq` → `stg`), if it follows the convention. */
export const stageOfQueueName = (name: string): string | undefined => name.match(/^alma-cache-([a-z0-9]+)-/)?.[1];

/** Which refresh queue a DLQ belongs to, from its name; undefined for any other queue. */
export const refreshKindOfDlq = (name: string): RefreshQueueKind | undefined =>
  (name.match(/-(users|loans|requests|fees)-dlq$/)?.[1] as RefreshQueueKind | undefined) ?? undefined;

const EVENT_DLQ_NAME = new RegExp(`-(${EVENT_FUNCTIONS.join('|')})-dlq$`);

/**
 * Which cache-update function a DLQ belongs to, from its name (`alma-cache-stg-loan-updated-dlq` → `loan-updated`);
 * undefined for any other queue.
 *
 * @example
 * eventFunctionOfDlq('alma-cache-prod-request-closed-dlq'); // 'request-closed'
 */
export const eventFunctionOfDlq = (name: string): EventFunction | undefined => name.match(EVENT_DLQ_NAME)?.[1] as EventFunction | undefined;

/**
 * The queue URL for `--queue`: a full URL as is, a short alias (`failures`, `loans-dlq`, …) as
 * `alma-cache-<stage>-<suffix>`, any other name as a queue name; names go through GetQueueUrl, so a missing queue
 * fails here with SQS's own error.
 */
export const resolveQueueUrl = async (sqs: SQSClient, queue: string, stage: string): Promise<string> => {
  if (/^https?:\/\//.test(queue)) return queue;
  const suffix = (QUEUE_ALIASES as Record<string, string>)[queue];
  const name = suffix ? `alma-cache-${stage}-${suffix}` : queue;
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  if (!QueueUrl) throw new Error(`GetQueueUrl returned no URL for ${name}`);
  return QueueUrl;
};

/** The queue's ARN, read from SQS (the URL alone does not carry the partition). */
export const queueArnOf = async (sqs: SQSClient, queueUrl: string): Promise<string> => {
  const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  const arn = Attributes['QueueArn'];
  if (!arn) throw new Error(`${queueNameOf(queueUrl)} reports no QueueArn`);
  return arn;
};

/**
 * The queue a cache-update function reads, in the stage of `nearQueueName` (the failure queue or DLQ being replayed,
 * `alma-cache-<stage>-…`) or else `stage`: where a failure-queue record of the SNS path goes back to.
 *
 * @example
 * await eventQueueUrl(sqs, 'loan-updated', 'alma-cache-prod-sns-lambdas-failures', 'stg'); // …/alma-cache-prod-loan-updated
 */
export const eventQueueUrl = (sqs: SQSClient, fn: EventFunction, nearQueueName: string, stage: string): Promise<string> =>
  resolveQueueUrl(sqs, eventQueueName(fn, nearQueueName, stage), stage);

/** The name {@link eventQueueUrl} looks up: `alma-cache-<stage>-<fn>`. */
export const eventQueueName = (fn: EventFunction, nearQueueName: string, stage: string): string =>
  `alma-cache-${stageOfQueueName(nearQueueName) ?? stage}-${fn}`;

/**
 * The queue a DLQ's messages came from: `explicit` if given; else the one queue whose redrive policy names this
 * DLQ (ListDeadLetterSourceQueues, what SQS itself knows); else the naming convention (`…-loans-dlq` → `…-loans`,
 * `…-loan-updated-dlq` → `…-loan-updated`).
 * Refuses when SQS names several sources, since the message does not say which one it left.
 */
export const resolveSourceQueueUrl = async (sqs: SQSClient, dlqUrl: string, explicit: string | undefined, stage: string): Promise<string> => {
  if (explicit) return resolveQueueUrl(sqs, explicit, stage);
  try {
    const { queueUrls = [] } = await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlqUrl }));
    if (queueUrls.length === 1) return queueUrls[0];
    if (queueUrls.length > 1)
      throw new Error(
        `${queueNameOf(dlqUrl)} is the DLQ of ${queueUrls.length} queues (${queueUrls.map(queueNameOf).join(', ')}): choose one with --source-queue`,
      );
  } catch (error) {
    if ((error as Error).message.includes('--source-queue')) throw error;
    // No permission for ListDeadLetterSourceQueues, say: the naming convention below still applies.
  }
  const name = queueNameOf(dlqUrl);
  if (!name.endsWith('-dlq')) throw new Error(`cannot tell where ${name} gets its messages from: name it with --source-queue`);
  return resolveQueueUrl(sqs, name.slice(0, -'-dlq'.length), stage);
};

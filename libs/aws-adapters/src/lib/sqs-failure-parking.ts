import { type MessageAttributeValue, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { queueUrlOfArn } from './sqs-message-delay';

/** Why a message was refused: the error's name and its one-line reason. */
export interface Refusal {
  readonly errorType: string;
  readonly reason: string;
}

/**
 * The message attributes a parked message carries besides its body, so the queue's own listing (console, `redrive
 * list`) names the reason without parsing the body.
 */
export const PARKED_REASON_ATTRIBUTES = {
  errorType: 'RefusedErrorType',
  reason: 'RefusedReason',
} as const;

/** A message's own attributes by these names are dropped: the refusal's values take their place. */
const REASON_NAMES: ReadonlySet<string> = new Set(Object.values(PARKED_REASON_ATTRIBUTES));

/** SQS takes at most 10 message attributes per message; the refusal uses two. */
const MAX_KEPT_ATTRIBUTES = 10 - Object.keys(PARKED_REASON_ATTRIBUTES).length;

/** Long enough for every reason the domain gives; a reason quoting hostile input must not crowd out the body. */
export const MAX_REASON_ATTRIBUTE_LENGTH = 1024;

// The characters SQS accepts in a message (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html):
// a reason quoting a control character or a lone surrogate from the input would make SendMessage fail, and the
// message would then be retried instead of parked.
// eslint-disable-next-line no-control-regex
const NOT_SQS_TEXT = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/**
 * Whether SQS takes `text` as it is, as a message body or a string attribute value: not empty, and only characters
 * SQS accepts.
 *
 * @example
 * isSqsText('LOAN_CREATED'); // true
 * isSqsText('bad \u0000 byte'); // false
 */
export const isSqsText = (text: string): boolean => text !== '' && text.search(NOT_SQS_TEXT) === -1;

/**
 * `text` as an SQS string attribute: cut to `max` characters, characters SQS refuses replaced with U+FFFD, never
 * empty (SQS refuses an empty attribute value).
 *
 * @example
 * sqsAttributeText('bad \u0000 byte'); // 'bad \uFFFD byte'
 */
export const sqsAttributeText = (text: string, max = MAX_REASON_ATTRIBUTE_LENGTH): string => {
  // Cut before cleaning: a cut can split a surrogate pair, and the half it leaves must be replaced like any other
  // lone surrogate. Replacing one code unit with U+FFFD keeps the length, so the result stays within `max`.
  const cut = text.length > max ? `${text.slice(0, max - 1)}…` : text;
  const clean = cut.replace(NOT_SQS_TEXT, '\uFFFD');
  return clean === '' ? '-' : clean;
};

/** Puts a message that can never be processed where operators look for failures (a failure queue or a DLQ), at once. */
export interface FailureParking {
  /**
   * Sends `body` to the parking queue with the refusal as message attributes ({@link PARKED_REASON_ATTRIBUTES}), after
   * the first `attributes` SQS has room for. Resolves with SQS's message id; rejects when SQS did not take the message,
   * so the caller can fall back to its retries rather than lose it.
   */
  park(body: string, refusal: Refusal, attributes?: Readonly<Record<string, MessageAttributeValue>>): Promise<string>;
}

/**
 * {@link FailureParking} with SendMessage to one queue. The function's role needs `sqs:SendMessage` on that queue.
 *
 * @example
 * const parking = new SqsFailureParking(createSqsClient(), process.env.FAILURE_QUEUE_URL!);
 * await parking.park(JSON.stringify(record), { errorType: 'MalformedEventError', reason: '"time" is missing' });
 */
export class SqsFailureParking implements FailureParking {
  public constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  /**
   * Parks on the queue named by its ARN: the value a role's grant names, so the queue sent to and the queue granted
   * cannot differ.
   *
   * @example
   * const dlq = SqsFailureParking.forQueueArn(createSqsClient(), 'arn:aws:sqs:eu-west-1:123456789012:alma-cache-prod-loans-dlq');
   * @throws Error when `queueArn` is not an SQS queue ARN
   */
  public static forQueueArn(client: SQSClient, queueArn: string): SqsFailureParking {
    return new SqsFailureParking(client, queueUrlOfArn(queueArn));
  }

  public async park(body: string, refusal: Refusal, attributes: Readonly<Record<string, MessageAttributeValue>> = {}): Promise<string> {
    const kept = Object.entries(attributes)
      .filter(([name]) => !REASON_NAMES.has(name))
      .slice(0, MAX_KEPT_ATTRIBUTES);
    const { MessageId } = await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: body,
        MessageAttributes: {
          ...Object.fromEntries(kept),
          [PARKED_REASON_ATTRIBUTES.errorType]: { DataType: 'String', StringValue: sqsAttributeText(refusal.errorType, 256) },
          [PARKED_REASON_ATTRIBUTES.reason]: { DataType: 'String', StringValue: sqsAttributeText(refusal.reason) },
        },
      }),
    );
    if (!MessageId) throw new Error('SQS accepted the parked message without a message id');
    return MessageId;
  }
}

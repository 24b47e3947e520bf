/**
 * An SNS topic ARN in any partition: region, 12-digit account, then a topic name of letters, digits, `-`, `_` and
 * the `.` of a FIFO topic's `.fifo`. The one pattern every function's configuration checks a topic variable against,
 * so a typo fails the cold start with the variable's name rather than the first publish with an SDK error.
 *
 * @example
 * isSnsTopicArn('arn:aws:sns:eu-west-1:123456789012:alma-loan-returned'); // true
 * isSnsTopicArn('https://sqs.eu-west-1.amazonaws.com/123456789012/changes'); // false
 */
export const isSnsTopicArn = (value: string): boolean => SNS_TOPIC_ARN.test(value);

const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$/;

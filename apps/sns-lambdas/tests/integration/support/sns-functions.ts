import type { SNSEvent } from 'aws-lambda';
import type { AlmaEventType } from '@alma-cache/cache-domain';
import { snsEvent } from '@alma-cache/local-aws';
import { TOKENS } from '../../../src/tokens';

/**
 * The function (by its serverless.yml name) subscribed to each event type's topic, and the use case it runs.
 *
 * @example
 * FUNCTION_OF.REQUEST_CANCELED.name; // 'request-closed'
 */
export const FUNCTION_OF = {
  LOAN_CREATED: { name: 'loan-updated', token: TOKENS.RecordLoan },
  LOAN_RENEWED: { name: 'loan-updated', token: TOKENS.RecordLoan },
  LOAN_DUE_DATE: { name: 'loan-updated', token: TOKENS.RecordLoan },
  LOAN_RETURNED: { name: 'loan-returned', token: TOKENS.RemoveLoan },
  REQUEST_CREATED: { name: 'request-updated', token: TOKENS.RecordRequest },
  REQUEST_PLACED_ON_SHELF: { name: 'request-updated', token: TOKENS.RecordRequest },
  REQUEST_CANCELED: { name: 'request-closed', token: TOKENS.CloseRequest },
  REQUEST_CLOSED: { name: 'request-closed', token: TOKENS.CloseRequest },
} as const satisfies Record<AlmaEventType, { name: string; token: symbol }>;

export type RoutedEventType = keyof typeof FUNCTION_OF;

export const topicArn = (type: string) => `arn:aws:sns:eu-west-1:000000000000:${type}`;

/**
 * The SNS event SNS hands the function subscribed to `type`'s topic.
 *
 * @example
 * await handler(snsEventFor('LOAN_CREATED', almaWebhookMessage('LOAN_CREATED')));
 */
export const snsEventFor = (type: string, message: string) => snsEvent(topicArn(type), message) as unknown as SNSEvent;

import type { AlmaEventType } from '@alma-cache/cache-domain';
import { TOKENS } from '../../../src/composition-root';

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

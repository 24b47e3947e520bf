import type { ExtraAlmaEventType } from '../lib/webhooks/webhook-routing';
import { almaWebhooks } from './alma-webhooks';

/** What Alma's loan object says after each extra event (invented values, Alma's field names). */
const EXTRA_LOAN_EVENTS = {
  LOAN_LOST: { base: 'LOAN_DUE_DATE', id: '5500110005', time: '2027-01-15T02:00:04.250Z', desc: 'Loan declared lost', processStatus: 'LOST' },
  LOAN_CLAIMED_RETURNED: {
    base: 'LOAN_DUE_DATE',
    id: '5500110006',
    time: '2026-12-11T09:12:40.031Z',
    desc: 'Loan claimed returned',
    processStatus: 'CLAIMED_RETURN',
  },
} as const satisfies Record<ExtraAlmaEventType, { base: 'LOAN_DUE_DATE'; id: string; time: string; desc: string; processStatus: string }>;

/**
 * A webhook body for one of the loan events without a topic of their own (LOAN_LOST, LOAN_CLAIMED_RETURNED): the
 * fixture loan of `almaWebhooks`, still open, with the event's process status; patron `PAT0042X`.
 *
 * @example
 * const body = extraAlmaWebhookMessage('LOAN_LOST'); // event.value 'LOAN_LOST', item_loan.process_status 'LOST'
 */
export const extraAlmaWebhookMessage = (type: ExtraAlmaEventType, variation: { eventId?: string; itemId?: string } = {}): string => {
  const extra = EXTRA_LOAN_EVENTS[type];
  const body = structuredClone(almaWebhooks[extra.base]) as Record<string, any>;
  body['id'] = variation.eventId ?? extra.id;
  body['time'] = extra.time;
  body['event'] = { value: type, desc: extra.desc };
  body['item_loan']['process_status'] = extra.processStatus;
  if (variation.itemId !== undefined) body['item_loan']['loan_id'] = variation.itemId;
  return JSON.stringify(body);
};

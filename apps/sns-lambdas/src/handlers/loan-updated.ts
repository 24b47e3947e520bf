import { itemEventHandlerFor, TOKENS } from '../composition-root';

/** Its queue (raw from its topics) → RecordLoan. */
export const handler = itemEventHandlerFor(TOKENS.RecordLoan);

import { itemEventHandlerFor } from '../main';
import { TOKENS } from '../tokens';

/** Its queue (raw from its topics) → RecordLoan. */
export const handler = itemEventHandlerFor(TOKENS.RecordLoan);

import { snsHandlerFor } from '../main';
import { TOKENS } from '../tokens';

/** SNS → RecordLoan. */
export const handler = snsHandlerFor(TOKENS.RecordLoan);

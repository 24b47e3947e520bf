import { snsHandlerFor } from '../main';
import { TOKENS } from '../tokens';

/** SNS → RemoveLoan. */
export const handler = snsHandlerFor(TOKENS.RemoveLoan);

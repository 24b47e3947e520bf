import { itemEventHandlerFor } from '../main';
import { TOKENS } from '../tokens';

/** Its queue (raw from its topics) → RemoveLoan. */
export const handler = itemEventHandlerFor(TOKENS.RemoveLoan);

import { itemEventHandlerFor, TOKENS } from '../composition-root';

/** Its queue (raw from its topics) → RemoveLoan. */
export const handler = itemEventHandlerFor(TOKENS.RemoveLoan);

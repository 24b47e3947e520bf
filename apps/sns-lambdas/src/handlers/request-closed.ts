import { itemEventHandlerFor, TOKENS } from '../composition-root';

/** Its queue (raw from its topics) → CloseRequest. */
export const handler = itemEventHandlerFor(TOKENS.CloseRequest);

import { itemEventHandlerFor } from '../main';
import { TOKENS } from '../tokens';

/** Its queue (raw from its topics) → CloseRequest. */
export const handler = itemEventHandlerFor(TOKENS.CloseRequest);

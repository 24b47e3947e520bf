import { itemEventHandlerFor } from '../main';
import { TOKENS } from '../tokens';

/** Its queue (raw from its topics) → RecordRequest. */
export const handler = itemEventHandlerFor(TOKENS.RecordRequest);

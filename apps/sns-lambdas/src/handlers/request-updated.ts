import { itemEventHandlerFor, TOKENS } from '../composition-root';

/** Its queue (raw from its topics) → RecordRequest. */
export const handler = itemEventHandlerFor(TOKENS.RecordRequest);

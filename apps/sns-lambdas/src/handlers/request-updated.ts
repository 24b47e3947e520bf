import { snsHandlerFor } from '../main';
import { TOKENS } from '../tokens';

/** SNS → RecordRequest. */
export const handler = snsHandlerFor(TOKENS.RecordRequest);

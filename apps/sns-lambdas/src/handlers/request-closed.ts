import { snsHandlerFor } from '../main';
import { TOKENS } from '../tokens';

/** SNS → CloseRequest. */
export const handler = snsHandlerFor(TOKENS.CloseRequest);

import { streamHandler } from '../main';

/** Loans and Requests table streams → change notifications on the cache-changes topic. */
export const handler = streamHandler();

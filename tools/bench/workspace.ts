import { join } from 'node:path';

/** The repository root (this file lives in tools/bench). */
export const WORKSPACE = join(__dirname, '..', '..');

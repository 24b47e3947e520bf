import { createHash } from 'node:crypto';
import { identifierProblem, userCacheKey } from '@alma-cache/cache-domain';

/** Why a backfill cannot start from what it was given; nothing was read from or sent to AWS. */
export class BackfillInputError extends Error {
  public readonly code = 'BACKFILL_INPUT';

  public constructor(message: string) {
    super(message);
    this.name = 'BackfillInputError';
  }
}

/** A file of patron ids, read and checked. */
export interface PatronIdList {
  /** Each patron once (the first spelling, in file order), as the run walks them. */
  readonly ids: readonly string[];
  /** Lines naming a patron already named above (case-insensitively, as the cache keys patrons): left out. */
  readonly duplicates: number;
  /** The list's fingerprint (`file:<sha-256 of the ids>`): a run resumes only on the list it started on. */
  readonly source: string;
}

/** Bad lines named at most, so that a wrong file (a CSV with many columns, say) does not flood the terminal. */
const MAX_NAMED_LINES = 20;

/**
 * Reads a file of primary ids, one per line, as a library exports them from Alma Analytics or a set. Blank lines are
 * skipped and a Windows line end is dropped; every other line must pass the identifier rule as it is (no trimming:
 * a padded id is not the patron's id, and the refresh would refuse it). All bad lines are refused at once, by line
 * number and reason, never echoing the line (it may not be an id at all).
 *
 * @example
 * parsePatronIds('PAT0001\r\nPAT0002\n\npat0001\n'); // { ids: ['PAT0001', 'PAT0002'], duplicates: 1, source: 'file:…' }
 * parsePatronIds('PAT0001\n../x\n');                // throws BackfillInputError: line 2: holds a path separator …
 * @throws BackfillInputError naming every malformed line, or when the file names no patron
 */
export const parsePatronIds = (text: string): PatronIdList => {
  const ids: string[] = [];
  const seen = new Set<string>();
  const problems: string[] = [];
  let duplicates = 0;
  const lines = text.split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') continue;
    const problem = identifierProblem(line);
    if (problem !== undefined) {
      problems.push(`line ${index + 1}: ${problem}`);
      continue;
    }
    const key = userCacheKey(line);
    if (seen.has(key)) {
      duplicates += 1;
      continue;
    }
    seen.add(key);
    ids.push(line);
  }
  if (problems.length > 0) {
    const named = problems.slice(0, MAX_NAMED_LINES).join('\n  ');
    const more = problems.length > MAX_NAMED_LINES ? `\n  … and ${problems.length - MAX_NAMED_LINES} more` : '';
    throw new BackfillInputError(`${problems.length} line(s) are not patron ids; nothing was sent:\n  ${named}${more}`);
  }
  if (ids.length === 0) throw new BackfillInputError('the file names no patron (one primary id per line)');
  const digest = createHash('sha256').update(ids.join('\n')).digest('hex');
  return { ids, duplicates, source: `file:${digest.slice(0, 16)}` };
};

import type { ItemKind } from './cache-record';

/**
 * The rule for an Alma object's fields before they become a cached record's attributes (webhook bodies and records a
 * refresh reads from Alma alike). The choice is to refuse, never to rename: Alma's real objects carry none of these,
 * so one that does is damaged or forged, and storing it under another name would still cache something no reader
 * expects. A refused webhook is a MalformedEventError (parked with its reason, never applied); a refused record of a
 * refresh is left out of the write (see RefreshUser and RefreshItem).
 *
 * Why each refusal:
 * - a field named like one of the cache's own attributes would be overwritten by it, or worse survive it: an Alma body
 *   with `tombstone: true` hid a live loan from every reader;
 * - an empty attribute name, at any depth, is refused by DynamoDB, which the functions took for a transient failure;
 * - a number JSON cannot carry exactly (an integer beyond 2^53, `1e400` read as Infinity, a magnitude DynamoDB cannot
 *   store) either fails the write the same way or is silently stored as another number;
 * - nesting deeper than DynamoDB's 32 levels.
 */

/**
 * Names the cache keeps for itself beside Alma's fields: what it adds to every record (`tombstone`, `expires_at`), to
 * the patron (`user_version`, `refreshed_at`, the patron's key `primary_id`), and the patron's id sets and removed-id
 * sets, which a record holding them would read as something it is not. A rule of the domain, so that no Alma field
 * ever shares a name with the cache's own: the storage adapter may use only names reserved here, which its table
 * schema's contract test (aws-adapters tests/unit/table-schema.spec.ts) holds it to.
 */
export const RESERVED_FIELD_NAMES = [
  'tombstone',
  'expires_at',
  'user_version',
  'refreshed_at',
  'primary_id',
  'loan_ids',
  'removed_loan_ids',
  'request_ids',
  'removed_request_ids',
  'fee_ids',
  'removed_fee_ids',
] as const;

/** Every `alma_event_*` name is the cache's (`alma_event_id`, `alma_event_type`, `alma_event_time`, and any later). */
export const RESERVED_FIELD_PREFIX = 'alma_event_';

/**
 * Reserved on one kind only: a fee is stored under `fee_id`, since Alma names a fee's id plain `id`. A loan's
 * `loan_id` and a request's `request_id` are Alma's own ids, and stay allowed.
 */
const RESERVED_BY_KIND: Readonly<Record<ItemKind, readonly string[]>> = { loan: [], request: [], fee: ['fee_id'] };

/** DynamoDB refuses an item whose attributes nest deeper than this. */
export const MAX_NESTING_LEVELS = 32;

// DynamoDB stores numbers with 38 significant digits between 1e-130 and 1e126 in magnitude.
const SMALLEST_MAGNITUDE = 1e-130;

/**
 * Whether `name` is one of the cache's own attribute names on a record of `kind` (the record's own id field, e.g. a
 * loan's `loan_id`, is Alma's and stays allowed).
 *
 * @example
 * isCacheAttributeName('tombstone', 'loan');     // true
 * isCacheAttributeName('alma_event_time', 'fee'); // true
 * isCacheAttributeName('fee_id', 'fee');          // true: the Fees table's key, Alma names the fee's id `id`
 * isCacheAttributeName('due_date', 'loan');       // false
 */
export const isCacheAttributeName = (name: string, kind: ItemKind): boolean =>
  (RESERVED_FIELD_NAMES as readonly string[]).includes(name) || name.startsWith(RESERVED_FIELD_PREFIX) || RESERVED_BY_KIND[kind].includes(name);

const numberProblem = (value: number): string | undefined => {
  if (!Number.isFinite(value)) return 'is a number JSON cannot carry (too large: read as Infinity)';
  if (Number.isInteger(value) && !Number.isSafeInteger(value)) return 'is an integer beyond 2^53, which JSON numbers cannot carry exactly';
  if (value !== 0 && Math.abs(value) < SMALLEST_MAGNITUDE) return 'is a number too small for DynamoDB (under 1e-130)';
  return undefined;
};

const pathOf = (path: string, key: string): string => `${path}.${key}`;

/** A field path for a reason: quoted and escaped (names are hostile too), and short. */
const quoted = (path: string): string => JSON.stringify(path.length > 120 ? `${path.slice(0, 119)}…` : path);

/** The first problem under `value` (a field's value at `path`, in the object `label`), walking at most `levels` deep. */
const valueProblem = (value: unknown, path: string, label: string, levels: number): string | undefined => {
  if (typeof value === 'number') {
    const problem = numberProblem(value);
    return problem && `${quoted(path)} ${problem}`;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  if (levels === 0) return `${quoted(label)} nests deeper than ${MAX_NESTING_LEVELS} levels (DynamoDB's limit)`;
  const isList = Array.isArray(value);
  const entries = isList ? value.map((child, index) => [`[${index}]`, child] as const) : Object.entries(value);
  for (const [key, child] of entries) {
    if (key === '') return `${quoted(path)} holds an empty attribute name, which DynamoDB refuses`;
    const problem = valueProblem(child, isList ? `${path}${key}` : pathOf(path, key), label, levels - 1);
    if (problem) return problem;
  }
  return undefined;
};

/**
 * Why an Alma object's `fields` cannot be cached as a record of `kind`, or `undefined` when they can. The reason
 * names the field by its path from `label` and never echoes the value.
 *
 * @example
 * recordFieldsProblem({ loan_id: 'L1', due_date: '2026-12-01' }, 'loan', 'item_loan'); // undefined
 * recordFieldsProblem({ loan_id: 'L1', tombstone: true }, 'loan', 'item_loan');
 * // '"item_loan.tombstone" is named like one of the cache's own attributes'
 * recordFieldsProblem({ fine: 2 ** 60 }, 'fee', 'fee'); // '"fee.fine" is an integer beyond 2^53, …'
 */
export const recordFieldsProblem = (fields: Readonly<Record<string, unknown>>, kind: ItemKind, label: string): string | undefined => {
  for (const [name, value] of Object.entries(fields)) {
    if (name === '') return `${quoted(label)} holds an empty attribute name, which DynamoDB refuses`;
    if (isCacheAttributeName(name, kind)) return `${quoted(pathOf(label, name))} is named like one of the cache's own attributes`;
    const problem = valueProblem(value, pathOf(label, name), label, MAX_NESTING_LEVELS);
    if (problem) return problem;
  }
  return undefined;
};

/**
 * The patron a cached record belongs to, as Alma names it in the record: a loan's `user_id`, a request's
 * `user_primary_id`, a fee's `user_primary_id` (a plain string or Alma's `{ value }`). Undefined when it names none.
 *
 * @example
 * recordOwner('loan', { loan_id: 'L1', user_id: 'PAT0042X' });           // 'PAT0042X'
 * recordOwner('fee', { id: 'F1', user_primary_id: { value: 'PAT0042X' } }); // 'PAT0042X'
 */
export const recordOwner = (kind: ItemKind, fields: Readonly<Record<string, unknown>>): string | undefined => {
  const owner = fields[kind === 'loan' ? 'user_id' : 'user_primary_id'];
  if (typeof owner === 'string') return owner;
  const value = typeof owner === 'object' && owner !== null ? (owner as Record<string, unknown>)['value'] : undefined;
  return typeof value === 'string' ? value : undefined;
};

import type { ItemKind } from '@alma-cache/cache-domain';

/** One Alma object as the fake server stores it; tests may change any field between calls. */
export type FakeAlmaRecord = Record<string, unknown>;

/**
 * A patron as the fake Alma server holds them. The arrays are the server's live state: push, splice or edit them
 * to change what Alma answers next.
 */
export interface FakeAlmaPatron {
  primaryId: string;
  loans: FakeAlmaRecord[];
  requests: FakeAlmaRecord[];
  fees: FakeAlmaRecord[];
}

/** How many records of each kind {@link generatePatron} makes; every count defaults to 0. */
export interface GeneratePatronCounts {
  readonly loans?: number;
  readonly requests?: number;
  readonly fees?: number;
}

const KIND_PREFIX: Record<ItemKind, string> = { loan: '73', request: '88', fee: '66' };
/** Alma ids end with the institution's four-digit code; the sample webhooks use 4561. */
const INSTITUTION_SUFFIX = '4561';
const MAX_INDEX = 99_999;

/**
 * The id {@link generatePatron} gives the `index`-th record of a kind (from 0): a 19-digit Alma-style number made
 * of a kind prefix, a hash of the lower-cased primary id, the index and the institution suffix. Stable across runs,
 * distinct across patrons in practice, so a test can name a record without reading it back first.
 *
 * @example
 * fakeRecordId('PAT0042X', 'loan', 0) === generatePatron('PAT0042X', { loans: 1 }).loans[0]['loan_id']; // true
 */
export function fakeRecordId(primaryId: string, kind: ItemKind, index: number): string {
  if (!Number.isInteger(index) || index < 0 || index > MAX_INDEX) {
    throw new RangeError(`fakeRecordId: index must be a whole number from 0 to ${MAX_INDEX}, got ${index}`);
  }
  const hash = String(fnv1a(primaryId.toLowerCase()) % 100_000_000).padStart(8, '0');
  return `${KIND_PREFIX[kind]}${hash}${String(index).padStart(5, '0')}${INSTITUTION_SUFFIX}`;
}

const BOOKS = [
  { title: 'Designing Data-Intensive Applications', author: 'Kleppmann, Martin', year: '2017', callNumber: 'QA76.9.D3 K54 2017' },
  { title: 'The Art of Computer Programming, Vol. 1', author: 'Knuth, Donald E.', year: '1997', callNumber: 'QA76.6 .K64 1997' },
  { title: 'Structure and Interpretation of Computer Programs', author: 'Abelson, Harold', year: '1996', callNumber: 'QA76.6 .A255 1996' },
  { title: 'Middlemarch', author: 'Eliot, George', year: '1994', callNumber: 'PR4662 .A1 1994' },
  { title: 'The Origin of Species', author: 'Darwin, Charles', year: '2008', callNumber: 'QH365 .O2 2008' },
  { title: 'A Brief History of Time', author: 'Hawking, Stephen', year: '1998', callNumber: 'QB981 .H377 1998' },
  { title: 'Introduction to Algorithms', author: 'Cormen, Thomas H.', year: '2022', callNumber: 'QA76.6 .C662 2022' },
  { title: 'The Name of the Rose', author: 'Eco, Umberto', year: '2014', callNumber: 'PQ4865.C6 N6 2014' },
] as const;

/** Dates are fixed, not taken from the clock, so two runs produce identical patrons. */
const BASE_TIME = Date.parse('2026-11-01T10:00:00.000Z');
const DAY_MS = 86_400_000;

/**
 * An Alma Item Loan (the `item_loan` of `GET /almaws/v1/users/{user_id}/loans`) for the `index`-th loan.
 *
 * @example
 * generateLoan('PAT0042X', 0).loan_status; // 'ACTIVE'
 */
export function generateLoan(primaryId: string, index: number): FakeAlmaRecord {
  const book = BOOKS[index % BOOKS.length];
  const loanTime = BASE_TIME + (index % 30) * DAY_MS + index * 1000;
  const digits = fakeRecordId(primaryId, 'loan', index).slice(2);
  return {
    loan_id: fakeRecordId(primaryId, 'loan', index),
    circ_desk: { value: 'DEFAULT_CIRC_DESK', desc: 'Main Circulation Desk' },
    library: { value: 'MAIN', desc: 'Main Library' },
    user_id: primaryId,
    item_barcode: `390${digits.slice(-11)}`,
    due_date: new Date(loanTime + 28 * DAY_MS).toISOString().replace(/T.*/, 'T23:59:00Z'),
    loan_status: 'ACTIVE',
    loan_date: new Date(loanTime).toISOString(),
    process_status: 'NORMAL',
    mms_id: `99${digits}`,
    holding_id: `22${digits}`,
    item_id: `23${digits}`,
    title: book.title,
    author: book.author,
    description: null,
    publication_year: book.year,
    location_code: { value: 'STACKS', name: 'Main Stacks' },
    item_policy: { value: '28DAY', description: '28 day loan' },
    call_number: book.callNumber,
    renewable: true,
    last_renew_status: null,
  };
}

/**
 * An Alma User Request (the `user_request` of `GET /almaws/v1/users/{user_id}/requests`), a patron's hold.
 *
 * @example
 * generateRequest('PAT0042X', 1).place_in_queue; // 2
 */
export function generateRequest(primaryId: string, index: number): FakeAlmaRecord {
  const book = BOOKS[(index + 3) % BOOKS.length];
  const requestTime = BASE_TIME + (index % 20) * DAY_MS + index * 1000;
  const onShelf = index % 3 === 2;
  const digits = fakeRecordId(primaryId, 'request', index).slice(2);
  return {
    user_primary_id: primaryId,
    request_id: fakeRecordId(primaryId, 'request', index),
    request_type: 'HOLD',
    request_sub_type: { value: 'PATRON_PHYSICAL', desc: 'Patron physical item request' },
    mms_id: `99${digits}`,
    title: book.title,
    author: book.author,
    description: null,
    comment: null,
    pickup_location: 'Main Library',
    pickup_location_type: 'LIBRARY',
    pickup_location_library: 'MAIN',
    material_type: { value: 'BK', desc: 'Book' },
    request_status: onShelf ? 'ON_HOLD_SHELF' : 'NOT_STARTED',
    place_in_queue: onShelf ? 0 : (index % 5) + 1,
    request_date: `${new Date(requestTime).toISOString().slice(0, 10)}Z`,
    request_time: new Date(requestTime).toISOString(),
    task_name: onShelf ? 'On Hold Shelf' : 'Pickup From Shelf',
    expiry_date: `${new Date(requestTime + 60 * DAY_MS).toISOString().slice(0, 10)}Z`,
    item_id: onShelf ? `23${digits}` : null,
    barcode: onShelf ? `390${digits.slice(-11)}` : null,
  };
}

const FEE_TYPES = [
  { value: 'OVERDUEFINE', desc: 'Overdue fine' },
  { value: 'LOSTITEMPROCESSFEE', desc: 'Lost item process fee' },
] as const;

/**
 * An Alma Fee (the `fee` of `GET /almaws/v1/users/{user_id}/fees`), active and unpaid.
 *
 * @example
 * generateFee('PAT0042X', 0).status; // { value: 'ACTIVE', desc: 'Active' }
 */
export function generateFee(primaryId: string, index: number): FakeAlmaRecord {
  const type = FEE_TYPES[index % FEE_TYPES.length];
  const amount = type.value === 'OVERDUEFINE' ? 0.5 * ((index % 10) + 1) : 10;
  const created = new Date(BASE_TIME + (index % 15) * DAY_MS + index * 1000).toISOString();
  const digits = fakeRecordId(primaryId, 'fee', index).slice(2);
  return {
    id: fakeRecordId(primaryId, 'fee', index),
    type: { ...type },
    status: { value: 'ACTIVE', desc: 'Active' },
    user_primary_id: { value: primaryId },
    balance: amount,
    remaining_vat_amount: 0,
    original_amount: amount,
    original_vat_amount: 0,
    creation_time: created,
    status_time: created,
    owner: { value: 'MAIN', desc: 'Main Library' },
    title: BOOKS[index % BOOKS.length].title,
    barcode: { value: `390${digits.slice(-11)}` },
    comment: null,
  };
}

/**
 * A patron with `counts` loans, requests and fees, every id predictable with {@link fakeRecordId}.
 *
 * @example
 * const server = await startFakeAlmaServer();
 * server.seedPatron(generatePatron('PAT0042X', { loans: 25, requests: 5, fees: 2 }));
 */
export function generatePatron(primaryId: string, counts: GeneratePatronCounts = {}): FakeAlmaPatron {
  const make = (count: number | undefined, one: (id: string, index: number) => FakeAlmaRecord) =>
    Array.from({ length: count ?? 0 }, (_, index) => one(primaryId, index));
  return {
    primaryId,
    loans: make(counts.loans, generateLoan),
    requests: make(counts.requests, generateRequest),
    fees: make(counts.fees, generateFee),
  };
}

/** 32-bit FNV-1a: tiny, dependency-free and stable, which is all the ids need. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

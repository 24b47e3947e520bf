/** The kinds of patron-owned record the cache holds. Webhooks keep loans and requests fresh; fees come from refreshes. */
export type ItemKind = 'loan' | 'request' | 'fee';

export const ITEM_KINDS = ['loan', 'request', 'fee'] as const satisfies readonly ItemKind[];

/**
 * How each kind is identified in Alma's objects: the field of Alma's that holds its id. Where the cache stores a
 * record is the storage adapter's business (aws-adapters' table-schema.ts).
 *
 * @example
 * loan[ITEM_SHAPES.loan.idField]; // the loan's id, e.g. '7391500230004561'
 */
export const ITEM_SHAPES = {
  loan: { idField: 'loan_id' },
  request: { idField: 'request_id' },
  // Alma names a fee's id plain `id`.
  fee: { idField: 'id' },
} as const satisfies Record<ItemKind, { idField: string }>;

/** The kinds of patron-owned record the cache holds. Webhooks keep loans and requests fresh; fees come from refreshes. */
export type ItemKind = 'loan' | 'request' | 'fee';

export const ITEM_KINDS = ['loan', 'request', 'fee'] as const satisfies readonly ItemKind[];

/**
 * How each kind is identified in Alma's objects and where the cache keeps it: the key of its table, and the
 * patron's id set (plus the set of ids seen removed, see `CacheStore.linkItem`).
 */
export const ITEM_SHAPES = {
  loan: {
    idField: 'loan_id',
    keyAttribute: 'loan_id',
    userIdsAttribute: 'loan_ids',
    removedIdsAttribute: 'removed_loan_ids',
  },
  request: {
    idField: 'request_id',
    keyAttribute: 'request_id',
    userIdsAttribute: 'request_ids',
    removedIdsAttribute: 'removed_request_ids',
  },
  fee: {
    // Alma names a fee's id plain `id`; the Fees table calls it `fee_id` like its siblings.
    idField: 'id',
    keyAttribute: 'fee_id',
    userIdsAttribute: 'fee_ids',
    removedIdsAttribute: 'removed_fee_ids',
  },
} as const satisfies Record<
  ItemKind,
  { idField: string; keyAttribute: string; userIdsAttribute: string; removedIdsAttribute: string }
>;

import { isCacheAttributeName, ITEM_KINDS, ITEM_SHAPES } from '@alma-cache/cache-domain';
import { CACHE_ATTRIBUTES, ITEM_TABLES, USER_KEY } from '../../src/lib/table-schema';

// The contract between the domain's reserved names (record-fields.ts) and this adapter's storage names: a name the
// store writes beside Alma's fields that the domain did not reserve could be overwritten by, or overwrite, a field of
// Alma's. Claim and guard attributes live in tables of their own and never meet a record.
describe('Contract: table schema and the reserved names', () => {
  it.each(ITEM_KINDS)("stores beside a %s's Alma fields, and on its patron, only names the domain reserves", (kind) => {
    // Prepare
    const idSets = ITEM_KINDS.flatMap((each) => [ITEM_TABLES[each].userIdsAttribute, ITEM_TABLES[each].removedIdsAttribute]);
    const stored = [...Object.values(CACHE_ATTRIBUTES), USER_KEY, ...idSets];

    // Act
    const unreserved = stored.filter((name) => !isCacheAttributeName(name, kind));

    // Assess
    expect(unreserved).toEqual([]);
  });

  it.each(ITEM_KINDS)("keys a %s by Alma's own id field or by a name the domain reserves for that kind", (kind) => {
    // Prepare
    const { keyAttribute } = ITEM_TABLES[kind];
    const { idField } = ITEM_SHAPES[kind];

    // Act
    const reserved = isCacheAttributeName(keyAttribute, kind);

    // Assess
    expect(isCacheAttributeName(idField, kind)).toBe(false);
    expect(keyAttribute === idField ? !reserved : reserved).toBe(true);
  });

  it("reserves the Fees table's key on fees, where Alma names the id plain `id`", () => {
    // Assess
    expect(ITEM_TABLES.fee.keyAttribute).toBe('fee_id');
    expect(isCacheAttributeName(ITEM_TABLES.fee.keyAttribute, 'fee')).toBe(true);
  });
});

import { AlmaInvalidIdentifierError, AlmaRequestError, ITEM_KINDS, MAX_IDENTIFIER_LENGTH } from '@alma-cache/cache-domain';
import { AlmaHttpApi } from '../../src';
import { almaUserPath } from '../../src/lib/alma-resources';
import { generatePatron, startFakeAlmaServer, type FakeAlmaServer } from '../../src/testing';

/** Every id the identifier rule refuses, as it would arrive after API Gateway decoded the path once. */
const BAD_IDS: readonly [label: string, id: string][] = [
  ['.', '.'],
  ['..', '..'],
  ['%2E%2E (left encoded)', '%2E%2E'],
  ['%2e', '%2e'],
  ['a/b', 'a/b'],
  ['a\\b', 'a\\b'],
  ['a%2Fb (left encoded)', 'a%2Fb'],
  ['a%5Cb (left encoded)', 'a%5Cb'],
  ['../..', '../..'],
  ['a line feed', 'PAT\n0042'],
  ['a NUL', 'PAT\u00000042'],
  ['256 characters', 'x'.repeat(MAX_IDENTIFIER_LENGTH + 1)],
  ['empty', ''],
  ['blank', '   '],
  ['padded with U+00A0', 'PAT0042X\u00a0'],
  ['padded with U+2003', '\u2003PAT0042X'],
  ['padded with U+3000', 'PAT0042X\u3000'],
  ['padded with U+FEFF', '\ufeffPAT0042X'],
  ['spelt with U+212A KELVIN SIGN', '\u212aPAT7'],
  ['in fullwidth letters', '\uff30\uff21\uff34'],
  ['holding U+FFFF', 'PAT\uffff'],
];

describe('Function: almaUserPath', () => {
  it('encodes an id that passes the rule', () => {
    // Act
    const paths = [
      almaUserPath('PAT 42', 'loan', '123'),
      almaUserPath('pat@uni.example', 'fee'),
      almaUserPath('x'.repeat(MAX_IDENTIFIER_LENGTH), 'request'),
    ];

    // Assess
    expect(paths).toEqual([
      '/almaws/v1/users/PAT%2042/loans/123',
      '/almaws/v1/users/pat%40uni.example/fees',
      `/almaws/v1/users/${'x'.repeat(MAX_IDENTIFIER_LENGTH)}/requests`,
    ]);
  });

  it.each(BAD_IDS)('refuses a patron id that is %s, for every kind', (_label, id) => {
    for (const kind of ITEM_KINDS) {
      // Act
      const build = () => almaUserPath(id, kind);

      // Assess
      expect(build).toThrow(AlmaInvalidIdentifierError);
      expect(build).toThrow(/^Not sent to Alma: the userPrimaryId /);
    }
  });

  it.each(BAD_IDS)('refuses a record id that is %s, for every kind', (_label, id) => {
    for (const kind of ITEM_KINDS) {
      // Act
      const build = () => almaUserPath('PAT0042X', kind, id);

      // Assess
      expect(build).toThrow(AlmaInvalidIdentifierError);
      expect(build).toThrow(/^Not sent to Alma: the recordId /);
    }
  });

  it('refuses with an error the callers treat as a bad request: an AlmaRequestError of status 400 that never echoes the id', () => {
    // Act
    let error: unknown;
    try {
      almaUserPath('PAT0042X', 'loan', '../..');
    } catch (thrown) {
      error = thrown;
    }

    // Assess
    expect(error).toBeInstanceOf(AlmaRequestError);
    expect(error).toMatchObject({ name: 'AlmaInvalidIdentifierError', status: 400, field: 'recordId' });
    expect((error as Error).message).not.toContain('../..');
  });
});

describe('Class: AlmaHttpApi (identifiers)', () => {
  let alma: FakeAlmaServer;

  beforeAll(async () => {
    alma = await startFakeAlmaServer({ patrons: [generatePatron('PAT0042X', { loans: 1 })] });
  });

  afterAll(async () => {
    await alma.close();
  });

  it.each(BAD_IDS.filter(([, id]) => id.trim() !== ''))('sends Alma nothing for an id that is %s, as patron or as record', async (_label, id) => {
    // Prepare
    const api = new AlmaHttpApi({ baseUrl: alma.url, apiKey: async () => alma.apiKey });
    alma.resetCalls();

    // Act
    const outcomes = await Promise.allSettled([api.listRecords(id, 'loan'), api.getRecord(id, 'fee', '1'), api.getRecord('PAT0042X', 'loan', id)]);

    // Assess
    expect(outcomes.map((outcome) => (outcome.status === 'rejected' ? (outcome.reason as Error).name : 'fulfilled'))).toEqual([
      'AlmaInvalidIdentifierError',
      'AlmaInvalidIdentifierError',
      'AlmaInvalidIdentifierError',
    ]);
    expect(alma.calls).toEqual([]);
  });
});

import { almaSignature, checkAlmaSignature, headerValue, signatureShape } from '../../src/alma-signature';
import vectors from '../fixtures/signature-vectors.json';

describe('Function: almaSignature', () => {
  it.each(vectors.map((vector, index) => [index, vector] as const))('gives the header of signature vector %i', (_index, vector) => {
    // Act
    const signature = almaSignature(vector.secret, Buffer.from(vector.body, 'utf8'));

    // Assess
    expect(signature).toBe(vector.x_exl_signature);
  });
});

describe('Function: checkAlmaSignature', () => {
  const [vector] = vectors;
  const body = Buffer.from(vector.body, 'utf8');

  it('accepts the signature of the raw body, with surrounding spaces', () => {
    // Act & Assess
    expect(checkAlmaSignature(vector.secret, body, vector.x_exl_signature)).toBe('valid');
    expect(checkAlmaSignature(vector.secret, body, ` ${vector.x_exl_signature} `)).toBe('valid');
  });

  it.each([
    ['no header', undefined, 'missing'],
    ['an empty header', ' ', 'missing'],
    ['a truncated signature', vector.x_exl_signature.slice(0, -2), 'malformed'],
    ['a hex digest', 'a'.repeat(64), 'malformed'],
    ['base64 with junk appended', `${vector.x_exl_signature}!!`, 'malformed'],
    ['the signature under another secret', almaSignature('another-secret', Buffer.from(vector.body)), 'mismatch'],
    ['the signature of re-serialised JSON', almaSignature(vector.secret, Buffer.from(JSON.stringify(JSON.parse(vector.body), null, 1))), 'mismatch'],
  ])('refuses %s', (_case, header, expected) => {
    // Act & Assess
    expect(checkAlmaSignature(vector.secret, body, header)).toBe(expected);
  });

  it('refuses a body changed after signing', () => {
    // Act & Assess
    expect(checkAlmaSignature(vector.secret, Buffer.from(vector.body.replace('LOAN_CREATED', 'LOAN_RETURNED')), vector.x_exl_signature)).toBe(
      'mismatch',
    );
  });
});

describe('Function: signatureShape', () => {
  it('tells a well-formed signature from junk without a secret', () => {
    // Act & Assess
    expect([signatureShape(vectors[0].x_exl_signature), signatureShape('abc'), signatureShape(undefined)]).toEqual([
      'well-formed',
      'malformed',
      'missing',
    ]);
  });
});

describe('Function: headerValue', () => {
  it.each(['X-Exl-Signature', 'x-exl-signature', 'X-EXL-SIGNATURE'])('finds the header named %s', (name) => {
    // Act & Assess
    expect(headerValue({ 'content-type': 'application/json', [name]: 'sig=' }, 'x-exl-signature')).toBe('sig=');
  });

  it('finds nothing in no headers', () => {
    // Act & Assess
    expect(headerValue(undefined, 'x-exl-signature')).toBeUndefined();
  });
});

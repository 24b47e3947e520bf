import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header Alma signs each webhook POST with. */
export const SIGNATURE_HEADER = 'x-exl-signature';

/** A well-formed signature: base64 of the 32 bytes of an HMAC-SHA256. */
const SIGNATURE_PATTERN = /^[A-Za-z0-9+/]{43}=$/;

/**
 * The `X-Exl-Signature` Alma sends for a body: base64(HMAC-SHA256(secret, raw body bytes)).
 *
 * @example
 * almaSignature('test-webhook-secret', Buffer.from('not valid json')); // 'cHmcB0pakbM1SCJDT8cMIyVMWDvfdJun45FMI5FIjdk='
 */
export const almaSignature = (secret: string, body: Buffer): string => createHmac('sha256', secret).update(body).digest('base64');

export type SignatureCheck = 'valid' | 'missing' | 'malformed' | 'mismatch';

/**
 * What a signature header looks like before any secret is involved, so junk is refused without reading the secret.
 *
 * @example
 * signatureShape(undefined); // 'missing'
 * signatureShape('abc');     // 'malformed'
 */
export const signatureShape = (header: string | undefined): 'missing' | 'malformed' | 'well-formed' => {
  const provided = header?.trim();
  if (!provided) return 'missing';
  return SIGNATURE_PATTERN.test(provided) ? 'well-formed' : 'malformed';
};

/**
 * Checks a webhook's signature over the raw body bytes as received, never over re-serialised JSON. The comparison
 * takes the same time wherever the digests differ (`timingSafeEqual`), so timing cannot reveal a valid signature.
 *
 * @example
 * checkAlmaSignature(secret, rawBody, event.headers['x-exl-signature']); // 'valid' | 'missing' | 'malformed' | 'mismatch'
 */
export const checkAlmaSignature = (secret: string, body: Buffer, header: string | undefined): SignatureCheck => {
  const shape = signatureShape(header);
  if (shape !== 'well-formed') return shape;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from((header as string).trim(), 'base64')) ? 'valid' : 'mismatch';
};

/**
 * A header's value whatever the case of its name: API Gateway lower-cases names, other front doors may not.
 *
 * @example
 * headerValue({ 'X-Exl-Signature': 'abc=' }, 'x-exl-signature'); // 'abc='
 */
export const headerValue = (headers: Readonly<Record<string, string | undefined>> | undefined, name: string): string | undefined => {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers ?? {})) if (key.toLowerCase() === wanted) return value;
  return undefined;
};

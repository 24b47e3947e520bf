/** A parsed JSON object: what a webhook body, an Alma reply or a token's claims are before their fields are checked. */
export type JsonObject = Record<string, unknown>;

/**
 * Whether a parsed JSON value is an object whose fields can be read: not `null`, not an array. The one such check of
 * the stack (the webhook parser, the Alma client's replies and error bodies, the query API's local tokens).
 *
 * @example
 * isJsonObject({ event: { value: 'LOAN_CREATED' } }); // true
 * isJsonObject([{}]);                                  // false
 * isJsonObject(null);                                  // false
 */
export const isJsonObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

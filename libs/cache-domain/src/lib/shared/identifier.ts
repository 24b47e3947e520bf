/**
 * The one identifier rule. Every id that crosses a boundary (a patron or record id in a query path, a webhook, a
 * queue message, an Alma URL, an SNS message attribute) is checked here before anything is built from it.
 *
 * Why each refusal: a dot segment (`.`, `..`) or a separator (`/`, `\`) in an id placed in a URL path moves the
 * request to another Alma resource (`/users/{id}/loans/..` is the patron's personal record); a control character
 * forges log lines and keys nobody will ask for; an unpaired surrogate cannot be stored as UTF-8; an id longer than
 * any Alma id is abuse. Percent-encoded separators and dots are refused too: an id is never decoded twice here, but a
 * proxy in front of Alma might.
 */

/** Longest id anything in the stack accepts (patron ids, record ids, webhook event ids): Alma's are far shorter. */
export const MAX_IDENTIFIER_LENGTH = 255;

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const SEPARATORS = /[/\\]/;
const ENCODED_SEPARATOR = /%(?:2f|5c)/i;
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

/**
 * Why `value` cannot be an identifier, or `undefined` when it can. The reason names the rule, never echoes the value
 * (it may be an attack string); callers put it in their own error.
 *
 * @example
 * identifierProblem('PAT0042X');  // undefined
 * identifierProblem('..');        // 'is a dot segment ("." or "..")'
 * identifierProblem('a/b');       // 'holds a path separator ("/" or "\\")'
 */
export const identifierProblem = (value: unknown): string | undefined => {
  if (typeof value !== 'string') return 'is missing or not a string';
  if (value.trim() === '') return 'is empty';
  if (value.length > MAX_IDENTIFIER_LENGTH) return `is longer than ${MAX_IDENTIFIER_LENGTH} characters`;
  if (CONTROL_CHARACTERS.test(value)) return 'holds control characters';
  if (UNPAIRED_SURROGATE.test(value)) return 'holds an unpaired surrogate (not valid UTF-16 text)';
  if (DOT_SEGMENT.test(value.trim())) return 'is a dot segment ("." or "..")';
  if (SEPARATORS.test(value)) return 'holds a path separator ("/" or "\\")';
  if (ENCODED_SEPARATOR.test(value)) return 'holds a percent-encoded path separator (%2F or %5C)';
  return undefined;
};

/**
 * Whether `value` passes {@link identifierProblem}.
 *
 * @example
 * isIdentifier('7391500230004561'); // true
 * isIdentifier('.');                // false
 */
export const isIdentifier = (value: unknown): value is string => identifierProblem(value) === undefined;

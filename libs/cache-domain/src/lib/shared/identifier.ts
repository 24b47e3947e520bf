/**
 * The one identifier rule. Every id that crosses a boundary (a patron or record id in a query path, a webhook, a
 * queue message, an Alma URL, an SNS message attribute) is checked here before anything is built from it.
 *
 * Why each refusal: a dot segment (`.`, `..`) or a separator (`/`, `\`) in an id placed in a URL path moves the
 * request to another Alma resource (`/users/{id}/loans/..` is the patron's personal record); a control character
 * forges log lines and keys nobody will ask for; an unpaired surrogate cannot be stored as UTF-8; an id longer than
 * any Alma id is abuse. Percent-encoded separators and dots are refused too: an id is never decoded twice here, but a
 * proxy in front of Alma might.
 *
 * The rule also makes every accepted id canonical, so that two ids reaching one cache key (`userCacheKey`, which
 * lower-cases ASCII letters only) are the same id to Alma. The stack assumes Alma matches ASCII letters
 * case-insensitively and nothing more (no trimming, no Unicode case folding, no normalization); an id that anything
 * could read as another one is refused rather than mended:
 * whitespace or an invisible (default-ignorable) character at either end (`PAT0042X` + U+00A0 would claim the key of
 * `PAT0042X` if anything trimmed it), a character whose upper or lower case is an ASCII letter (U+212A KELVIN SIGN
 * lower-cases to `k`, U+0131 dotless i upper-cases to `I`), text that Unicode NFKC normalization changes
 * (compatibility forms such as fullwidth letters, decomposed accents), and noncharacters (U+FFFE, U+FFFF, U+FDD0 to
 * U+FDEF: SQS refuses a message holding one). Ids libraries really use (ASCII letters and digits, `@ . _ - +`,
 * ordinary letters of any script, `ß` included) pass.
 */

/** Longest id anything in the stack accepts (patron ids, record ids, webhook event ids): Alma's are far shorter. */
export const MAX_IDENTIFIER_LENGTH = 255;

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const SEPARATORS = /[/\\]/;
const ENCODED_SEPARATOR = /%(?:2f|5c)/i;
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;
// JavaScript's trim() set is White_Space plus U+FEFF; U+200B, U+2060, U+00AD and the like are invisible too.
const BLANK_AT_AN_END = /^[\p{White_Space}\p{Default_Ignorable_Code_Point}]|[\p{White_Space}\p{Default_Ignorable_Code_Point}]$/u;
// U+FDD0 to U+FDEF, and the last two code points of every plane (U+FFFE, U+FFFF, U+1FFFE, ...).
const NONCHARACTER = /\p{Noncharacter_Code_Point}/u;
// A case form that is one ASCII letter, maybe with combining marks: U+0130 lower-cases to `i` + U+0307.
const ASCII_LETTER_FORM = /^[A-Za-z]\p{M}*$/u;

/** Whether a non-ASCII character of `value` has an upper or lower case that is an ASCII letter (U+212A, U+0131). */
const foldsToAscii = (value: string): boolean => {
  for (const character of value) {
    if (character.charCodeAt(0) < 0x80) continue;
    if (ASCII_LETTER_FORM.test(character.toLowerCase()) || ASCII_LETTER_FORM.test(character.toUpperCase())) return true;
  }
  return false;
};

/**
 * Why `value` cannot be an identifier, or `undefined` when it can. The reason names the rule, never echoes the value
 * (it may be an attack string); callers put it in their own error.
 *
 * @example
 * identifierProblem('PAT0042X');  // undefined
 * identifierProblem('..');        // 'is a dot segment ("." or "..")'
 * identifierProblem('a/b');       // 'holds a path separator ("/" or "\\")'
 * identifierProblem('PAT0042X\u00a0'); // 'starts or ends with whitespace or an invisible character'
 */
export const identifierProblem = (value: unknown): string | undefined => {
  if (typeof value !== 'string') return 'is missing or not a string';
  if (value.trim() === '') return 'is empty';
  if (value.length > MAX_IDENTIFIER_LENGTH) return `is longer than ${MAX_IDENTIFIER_LENGTH} characters`;
  if (CONTROL_CHARACTERS.test(value)) return 'holds control characters';
  if (UNPAIRED_SURROGATE.test(value)) return 'holds an unpaired surrogate (not valid UTF-16 text)';
  if (BLANK_AT_AN_END.test(value)) return 'starts or ends with whitespace or an invisible character';
  if (NONCHARACTER.test(value)) return 'holds a Unicode noncharacter (such as U+FFFE or U+FFFF)';
  if (foldsToAscii(value)) return 'holds a character whose upper or lower case is an ASCII letter (such as U+212A KELVIN SIGN)';
  if (value.normalize('NFKC') !== value) return 'is not in Unicode NFKC form (a compatibility or decomposed character)';
  if (DOT_SEGMENT.test(value)) return 'is a dot segment ("." or "..")';
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

import { almaWebhooks } from '@alma-cache/cache-domain/testing';
import type { RoutedEventType } from '../../support/sns-functions';

/** One malformed input: what reaches the function, and the reason it must give for refusing it. */
export interface PoisonCase {
  readonly name: string;
  /** The topic (and so the function's queue) it arrives on. */
  readonly topic: RoutedEventType;
  /** The message body, as the topic delivers it raw to the queue and as the DLQ must keep it. */
  readonly body: string;
  readonly errorType: string;
  readonly reason: RegExp;
}

type Body = Record<string, unknown>;

// Newer than anything the spec seeds and for the same patron and items: wrongly accepted, it would overwrite them.
// A minute before the harness's clock (SAMPLES_RECEIVED_AT), so only the cases about time are refused for their time.
const POISON_TIME = '2026-12-10T16:59:00.000Z';

const sample = (type: RoutedEventType): Body => ({ ...(structuredClone(almaWebhooks[type]) as Body), id: '9900000001', time: POISON_TIME });
const loan = (body: Body) => body['item_loan'] as Body;
const request = (body: Body) => body['user_request'] as Body;

/** A loan webhook changed by `change`, on the LOAN_CREATED topic. */
const loanBody = (change: (body: Body) => void, type: RoutedEventType = 'LOAN_CREATED'): string => {
  const body = sample(type);
  change(body);
  return JSON.stringify(body);
};

const nested = (depth: number): unknown => (depth === 0 ? 'bottom' : { level: nested(depth - 1) });

const MALFORMED = 'MalformedEventError';
const UNSUPPORTED = 'UnsupportedEventTypeError';
const SAMPLE = JSON.stringify(sample('LOAN_CREATED'));

const message = (name: string, errorType: string, reason: RegExp, body: string, topic: RoutedEventType = 'LOAN_CREATED'): PoisonCase => ({
  name,
  topic,
  body,
  errorType,
  reason,
});

/** One case a row: the sample LOAN_CREATED body changed by the row's `change`, refused with `errorType`. */
type LoanCase = readonly [name: string, reason: RegExp, change: (body: Body) => void];
const loanCases = (errorType: string, cases: readonly LoanCase[]): PoisonCase[] =>
  cases.map(([name, reason, change]) => message(name, errorType, reason, loanBody(change)));

/** A request webhook of `type` on its own topic, its user_request the sample's with `fields` laid over it. */
const malformedRequest = (name: string, reason: RegExp, type: RoutedEventType, fields: Body): PoisonCase =>
  message(name, MALFORMED, reason, JSON.stringify({ ...sample(type), user_request: { ...request(sample(type)), ...fields } }), type);

/**
 * The catalogue: malformed webhook bodies (not JSON, wrong JSON, wrong types, missing or blank ids, bad times,
 * unknown or misrouted event types, odd characters, huge or deep bodies, prototype keys). A damaged SNS envelope
 * cannot reach the functions: the topics deliver the body raw to their queues.
 */
export const POISON_CASES: readonly PoisonCase[] = [
  // The body is not a JSON object.
  message('truncated JSON', MALFORMED, /message is not JSON/, SAMPLE.slice(0, 180)),
  message('empty body', MALFORMED, /message is not JSON/, ''),
  message('whitespace-only body', MALFORMED, /message is not JSON/, ' \n\t '),
  message('byte-order mark before the JSON', MALFORMED, /message is not JSON/, `\uFEFF${SAMPLE}`),
  message('XML instead of JSON', MALFORMED, /message is not JSON/, '<webhook><id>1</id></webhook>'),
  message('JSON array holding the body', MALFORMED, /JSON but not an object/, `[${SAMPLE}]`),
  message('JSON number', MALFORMED, /JSON but not an object/, '42'),
  message('JSON null', MALFORMED, /JSON but not an object/, 'null'),
  message('JSON boolean', MALFORMED, /JSON but not an object/, 'true'),
  message('body encoded twice (a JSON string of the JSON)', MALFORMED, /JSON but not an object/, JSON.stringify(SAMPLE)),
  message('100 000 nested arrays', MALFORMED, /(JSON but not an object|not JSON)/, `${'['.repeat(100_000)}${']'.repeat(100_000)}`),
  // The Alma event id.
  ...loanCases(MALFORMED, [
    ['event id missing', /"id" \(the Alma event id\) is missing/, (b) => delete b['id']],
    ['event id a number', /"id" \(the Alma event id\) is missing or not a string/, (b) => (b['id'] = 5500110001)],
    ['event id null', /"id" \(the Alma event id\) is missing/, (b) => (b['id'] = null)],
    ['event id empty', /"id" \(the Alma event id\) is empty/, (b) => (b['id'] = '')],
    ['event id whitespace', /"id" \(the Alma event id\) is empty/, (b) => (b['id'] = ' \t ')],
    [
      'event id with a newline and a forged log line',
      /"id".*control characters/,
      (b) => (b['id'] = '9900000001\n{"level":"INFO","message":"forged"}'),
    ],
    // The event type.
    ['event missing', /"event.value" \(the event type\) is missing/, (b) => delete b['event']],
    ['event a string, not an object', /"event.value" \(the event type\) is missing/, (b) => (b['event'] = 'LOAN_CREATED')],
    ['event.value missing', /"event.value" \(the event type\) is missing/, (b) => (b['event'] = { desc: 'Loan created' })],
    ['event.value a number', /"event.value" \(the event type\) is missing/, (b) => (b['event'] = { value: 7 })],
  ]),
  ...loanCases(UNSUPPORTED, [
    ['unknown event type', /event type USER_UPDATED is not handled here/, (b) => (b['event'] = { value: 'USER_UPDATED' })],
    ['event type in lower case', /event type loan_created is not handled here/, (b) => (b['event'] = { value: 'loan_created' })],
  ]),
  message(
    'loan event sent to the request function',
    UNSUPPORTED,
    /event type LOAN_CREATED is not handled here \(accepted: REQUEST_CREATED/,
    SAMPLE,
    'REQUEST_CREATED',
  ),
  message(
    'request event sent to the loan-returned function',
    UNSUPPORTED,
    /event type REQUEST_CLOSED is not handled here/,
    JSON.stringify(sample('REQUEST_CLOSED')),
    'LOAN_RETURNED',
  ),
  // The event time.
  ...loanCases(MALFORMED, [
    ['time missing', /"time" is missing or not an ISO-8601 date/, (b) => delete b['time']],
    ['time a number (epoch milliseconds)', /"time" is missing or not an ISO-8601 date: 1798106400000/, (b) => (b['time'] = 1798106400000)],
    ['time in words', /"time" is missing or not an ISO-8601 date: "yesterday"/, (b) => (b['time'] = 'yesterday')],
    ['time in US notation', /"time" is missing or not an ISO-8601 date: "12\/31\/2099"/, (b) => (b['time'] = '12/31/2099')],
    ['time a bare number string', /"time" is missing or not an ISO-8601 date: "1"/, (b) => (b['time'] = '1')],
    [
      'time on a day that does not exist',
      /"time" is missing or not an ISO-8601 date: "2026-02-30T10:00:00.000Z"/,
      (b) => (b['time'] = '2026-02-30T10:00:00.000Z'),
    ],
    ['time without a time zone', /"time" is missing or not an ISO-8601 date: "2026-12-24T10:00:00"/, (b) => (b['time'] = '2026-12-24T10:00:00')],
    // The loan or request.
    ['item_loan missing', /"item_loan" is missing or not an object/, (b) => delete b['item_loan']],
    ['item_loan null', /"item_loan" is missing or not an object/, (b) => (b['item_loan'] = null)],
    ['item_loan an array', /"item_loan" is missing or not an object/, (b) => (b['item_loan'] = [loan(sample('LOAN_CREATED'))])],
    ['loan id missing', /"item_loan.loan_id" is (missing or not a string|empty)/, (b) => delete loan(b)['loan_id']],
    ['loan id a number', /"item_loan.loan_id" is (missing or not a string|empty)/, (b) => (loan(b)['loan_id'] = 7391500230004561)],
    ['loan id of Unicode spaces', /"item_loan.loan_id" is (missing or not a string|empty)/, (b) => (loan(b)['loan_id'] = '\u00a0\u2003\u3000')],
    ['loan id with a NUL character', /"item_loan.loan_id".*control characters/, (b) => (loan(b)['loan_id'] = '7391500230004561\u0000')],
    ['patron id missing', /"item_loan.user_id" is (missing or not a string|empty)/, (b) => delete loan(b)['user_id']],
    ['patron id an object', /"item_loan.user_id" is (missing or not a string|empty)/, (b) => (loan(b)['user_id'] = { value: 'PAT0042X' })],
    ['patron id with an unpaired surrogate', /"item_loan.user_id".*unpaired surrogate/, (b) => (loan(b)['user_id'] = 'PAT0042X\ud800')],
  ]),
  malformedRequest('request id missing', /"user_request.request_id" is (missing or not a string|empty)/, 'REQUEST_CREATED', {
    request_id: undefined,
  }),
  malformedRequest('request patron id empty', /"user_request.user_primary_id" is (missing or not a string|empty)/, 'REQUEST_CLOSED', {
    user_primary_id: '',
  }),
  // The one identifier rule (identifier.ts) for the event, loan and patron ids.
  ...loanCases(MALFORMED, [
    ['patron id "."', /"item_loan.user_id" is a dot segment/, (b) => (loan(b)['user_id'] = '.')],
    ['patron id ".."', /"item_loan.user_id" is a dot segment/, (b) => (loan(b)['user_id'] = '..')],
  ]),
  malformedRequest('request patron id ".."', /"user_request.user_primary_id" is a dot segment/, 'REQUEST_CREATED', { user_primary_id: '..' }),
  // One canonical identity per patron (identifier.ts): look-alikes of the cached sample patron PAT0042X and of the
  // sample ids. Trimmed or Unicode-lower-cased, the first four would name the sample patron's row while Alma is asked
  // about another id. Noncharacters go as JSON escapes, as they would come through SNS (which refuses them raw).
  ...loanCases(MALFORMED, [
    ['patron id with U+00A0 at the end', /"item_loan.user_id" starts or ends with whitespace/, (b) => (loan(b)['user_id'] = 'PAT0042X\u00a0')],
    ['patron id with U+2003 at the start', /"item_loan.user_id" starts or ends with whitespace/, (b) => (loan(b)['user_id'] = '\u2003PAT0042X')],
    ['patron id with U+3000 at the end', /"item_loan.user_id" starts or ends with whitespace/, (b) => (loan(b)['user_id'] = 'PAT0042X\u3000')],
    ['patron id with U+FEFF at the start', /"item_loan.user_id" starts or ends with whitespace/, (b) => (loan(b)['user_id'] = '\ufeffPAT0042X')],
    [
      'patron id with U+212A KELVIN SIGN',
      /"item_loan.user_id" holds a character whose upper or lower case is an ASCII letter/,
      (b) => (loan(b)['user_id'] = '\u212aPAT0042X'),
    ],
    [
      'patron id in fullwidth letters',
      /"item_loan.user_id" is not in Unicode NFKC form/,
      (b) => (loan(b)['user_id'] = '\uff30\uff21\uff34\uff10\uff10\uff14\uff12\uff38'),
    ],
    [
      'loan id with U+FEFF at the end',
      /"item_loan.loan_id" starts or ends with whitespace/,
      (b) => (loan(b)['loan_id'] = `${String(loan(b)['loan_id'])}\ufeff`),
    ],
    ['event id with U+00A0 at the end', /"id" \(the Alma event id\) starts or ends with whitespace/, (b) => (b['id'] = '9900000001\u00a0')],
  ]),
  message(
    'patron id with U+FFFF (a JSON escape)',
    MALFORMED,
    /"item_loan.user_id" holds a Unicode noncharacter/,
    loanBody((b) => (loan(b)['user_id'] = 'PAT0042X\uffff')).replace('\uffff', '\\uffff'),
  ),
  message(
    'loan id with U+FFFE (a JSON escape)',
    MALFORMED,
    /"item_loan.loan_id" holds a Unicode noncharacter/,
    loanBody((b) => (loan(b)['loan_id'] = `${String(loan(b)['loan_id'])}\ufffe`)).replace('\ufffe', '\\ufffe'),
  ),
  malformedRequest('request patron id with U+00A0 at the start', /"user_request.user_primary_id" starts or ends with whitespace/, 'REQUEST_CREATED', {
    user_primary_id: '\u00a0PAT0042X',
  }),
  malformedRequest(
    'request patron id with U+212A KELVIN SIGN',
    /"user_request.user_primary_id" holds a character whose upper or lower case/,
    'REQUEST_CANCELED',
    {
      user_primary_id: 'PAT0042\u212a',
    },
  ),
  malformedRequest('request id with a fullwidth digit', /"user_request.request_id" is not in Unicode NFKC form/, 'REQUEST_CLOSED', {
    request_id: '\uff11234',
  }),
  ...loanCases(MALFORMED, [
    ['loan id with a path separator', /"item_loan.loan_id" holds a path separator/, (b) => (loan(b)['loan_id'] = '7391500230004561/../1')],
    [
      'patron id with a percent-encoded separator',
      /"item_loan.user_id" holds a percent-encoded path separator/,
      (b) => (loan(b)['user_id'] = 'PAT0042X%2F..'),
    ],
    ['event id longer than 255 characters', /"id" \(the Alma event id\) is longer than 255 characters/, (b) => (b['id'] = '9'.repeat(256))],
    // The replay horizon (21 days before the harness's clock) and the future allowance (300 s after it).
    [
      'time older than the replay horizon (22 days)',
      /"time" 2026-11-18T16:59:00.000Z is older than the replay horizon \(21 days\)/,
      (b) => (b['time'] = '2026-11-18T16:59:00.000Z'),
    ],
    [
      'time a year old (a redriven LOAN_CREATED of a returned loan)',
      /is older than the replay horizon/,
      (b) => (b['time'] = '2025-12-10T16:59:00.000Z'),
    ],
    [
      'time 10 minutes in the future',
      /"time" 2026-12-10T17:10:00.000Z is more than 300 s in the future/,
      (b) => (b['time'] = '2026-12-10T17:10:00.000Z'),
    ],
    ['time in 2099 (would pin the loan for good)', /is more than 300 s in the future/, (b) => (b['time'] = '2099-01-01T00:00:00.000Z')],
  ]),
  // Numbers JSON cannot carry exactly, and numbers DynamoDB cannot store (were: ValidationException, retried as transient).
  message(
    'loan field an integer beyond 2^53',
    MALFORMED,
    /"item_loan.fine" is an integer beyond 2\^53/,
    loanBody(() => undefined).replace('"loan_id"', '"fine":9007199254740993,"loan_id"'),
  ),
  message(
    'loan field read as Infinity (1e400)',
    MALFORMED,
    /"item_loan.fine" is a number JSON cannot carry/,
    loanBody(() => undefined).replace('"loan_id"', '"fine":1e400,"loan_id"'),
  ),
  ...loanCases(MALFORMED, [
    ['loan field too small for DynamoDB (1e-200)', /"item_loan.fine" is a number too small for DynamoDB/, (b) => (loan(b)['fine'] = 1e-200)],
    [
      'nested integer beyond 2^53 in a list',
      /"item_loan.library.codes\[1\]" is an integer beyond 2\^53/,
      (b) => (loan(b)['library'] = { codes: [1, 2 ** 60] }),
    ],
    // Empty attribute names, at any depth (DynamoDB refuses them; were retried as transient).
    ['empty field name in item_loan', /"item_loan" holds an empty attribute name/, (b) => (loan(b)[''] = 'x')],
    ['empty field name nested in item_loan', /"item_loan.library" holds an empty attribute name/, (b) => (loan(b)['library'] = { '': 'MAIN' })],
    // Alma fields named like the cache's own attributes (tombstone: true hid a live loan).
    [
      'item_loan.tombstone true (would hide a live loan)',
      /"item_loan.tombstone" is named like one of the cache's own attributes/,
      (b) => (loan(b)['tombstone'] = true),
    ],
    ['item_loan.expires_at', /"item_loan.expires_at" is named like/, (b) => (loan(b)['expires_at'] = 1)],
    [
      'item_loan.alma_event_time (would pin the loan)',
      /"item_loan.alma_event_time" is named like/,
      (b) => (loan(b)['alma_event_time'] = '2099-01-01T00:00:00.000Z'),
    ],
    [
      'item_loan.alma_event_source (any alma_event_ name)',
      /"item_loan.alma_event_source" is named like/,
      (b) => (loan(b)['alma_event_source'] = 'x'),
    ],
    ['item_loan.user_version', /"item_loan.user_version" is named like/, (b) => (loan(b)['user_version'] = 99)],
    ['item_loan.refreshed_at', /"item_loan.refreshed_at" is named like/, (b) => (loan(b)['refreshed_at'] = '2026-12-01T00:00:00.000Z')],
    ['item_loan.removed_loan_ids (an id-set name)', /"item_loan.removed_loan_ids" is named like/, (b) => (loan(b)['removed_loan_ids'] = ['1'])],
  ]),
  malformedRequest('user_request.tombstone false on REQUEST_CLOSED', /"user_request.tombstone" is named like/, 'REQUEST_CLOSED', {
    tombstone: false,
  }),
  // Size and depth.
  ...loanCases(MALFORMED, [
    [
      'huge body over the SNS limit (300 KB)',
      /message is 30\d{4} bytes, more than SNS delivers \(262144\)/,
      (b) => (loan(b)['description'] = 'x'.repeat(300_000)),
    ],
    [
      'huge body over the DynamoDB item limit (500 KB)',
      /message is 50\d{4} bytes, more than SNS delivers/,
      (b) => (loan(b)['description'] = 'é'.repeat(250_000)),
    ],
    [
      'loan field nested deeper than DynamoDB allows (40 levels)',
      /"item_loan" nests deeper than 32 levels/,
      (b) => (loan(b)['location_code'] = nested(40)),
    ],
  ]),
  // Prototype keys: JSON.parse makes them own properties; nothing may be read through them or pollute Object.prototype.
  message('required fields only under "__proto__"', MALFORMED, /"id" \(the Alma event id\) is missing/, `{"__proto__": ${SAMPLE}, "polluted": true}`),
  ...loanCases(MALFORMED, [
    [
      'loan ids only under item_loan.__proto__',
      /"item_loan.loan_id" is (missing or not a string|empty)/,
      (b) => (b['item_loan'] = JSON.parse(`{"__proto__": ${JSON.stringify(loan(b))}}`)),
    ],
  ]),
  message(
    'constructor.prototype key with no ids',
    MALFORMED,
    /"id" \(the Alma event id\) is missing/,
    '{"constructor": {"prototype": {"polluted": true}}}',
  ),
];

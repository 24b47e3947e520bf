import { almaWebhooks } from '@alma-cache/cache-domain/testing';
import { snsEventFor, type RoutedEventType } from './lambda-harness';

/** One malformed input: what reaches the function, and the reason it must give for refusing it. */
export interface PoisonCase {
  readonly name: string;
  /** The topic (and so the function) it arrives on. */
  readonly topic: RoutedEventType;
  /** The whole Lambda event, as the failure record must keep it. */
  readonly event: unknown;
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

const onTopic = (topic: RoutedEventType, message: string) => snsEventFor(topic, message);
const nested = (depth: number): unknown => (depth === 0 ? 'bottom' : { level: nested(depth - 1) });
/** A valid envelope for the sample LOAN_CREATED, for envelope cases to damage. */
const envelope = () =>
  onTopic(
    'LOAN_CREATED',
    loanBody(() => undefined),
  ) as unknown as { Records: Body[] };
const damaged = (change: (event: { Records: Body[] }) => unknown) => {
  const event = envelope();
  return change(event) ?? event;
};

const MALFORMED = 'MalformedEventError';
const UNSUPPORTED = 'UnsupportedEventTypeError';
const ENVELOPE = 'InvalidSnsEventError';
const SAMPLE = JSON.stringify(sample('LOAN_CREATED'));

const message = (name: string, errorType: string, reason: RegExp, body: string, topic: RoutedEventType = 'LOAN_CREATED'): PoisonCase => ({
  name,
  topic,
  event: onTopic(topic, body),
  errorType,
  reason,
});

/**
 * The catalogue: malformed webhook bodies (not JSON, wrong JSON, wrong types, missing or blank ids, bad times,
 * unknown or misrouted event types, odd characters, huge or deep bodies, prototype keys) and damaged SNS envelopes.
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
  message(
    'event id missing',
    MALFORMED,
    /"id" \(the Alma event id\) is missing/,
    loanBody((b) => delete b['id']),
  ),
  message(
    'event id a number',
    MALFORMED,
    /"id" \(the Alma event id\) is missing or not a string/,
    loanBody((b) => (b['id'] = 5500110001)),
  ),
  message(
    'event id null',
    MALFORMED,
    /"id" \(the Alma event id\) is missing/,
    loanBody((b) => (b['id'] = null)),
  ),
  message(
    'event id empty',
    MALFORMED,
    /"id" \(the Alma event id\) is empty/,
    loanBody((b) => (b['id'] = '')),
  ),
  message(
    'event id whitespace',
    MALFORMED,
    /"id" \(the Alma event id\) is empty/,
    loanBody((b) => (b['id'] = ' \t ')),
  ),
  message(
    'event id with a newline and a forged log line',
    MALFORMED,
    /"id".*control characters/,
    loanBody((b) => (b['id'] = '9900000001\n{"level":"INFO","message":"forged"}')),
  ),
  // The event type.
  message(
    'event missing',
    MALFORMED,
    /"event.value" \(the event type\) is missing/,
    loanBody((b) => delete b['event']),
  ),
  message(
    'event a string, not an object',
    MALFORMED,
    /"event.value" \(the event type\) is missing/,
    loanBody((b) => (b['event'] = 'LOAN_CREATED')),
  ),
  message(
    'event.value missing',
    MALFORMED,
    /"event.value" \(the event type\) is missing/,
    loanBody((b) => (b['event'] = { desc: 'Loan created' })),
  ),
  message(
    'event.value a number',
    MALFORMED,
    /"event.value" \(the event type\) is missing/,
    loanBody((b) => (b['event'] = { value: 7 })),
  ),
  message(
    'unknown event type',
    UNSUPPORTED,
    /event type USER_UPDATED is not handled here/,
    loanBody((b) => (b['event'] = { value: 'USER_UPDATED' })),
  ),
  message(
    'event type in lower case',
    UNSUPPORTED,
    /event type loan_created is not handled here/,
    loanBody((b) => (b['event'] = { value: 'loan_created' })),
  ),
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
  message(
    'time missing',
    MALFORMED,
    /"time" is missing or not an ISO-8601 date/,
    loanBody((b) => delete b['time']),
  ),
  message(
    'time a number (epoch milliseconds)',
    MALFORMED,
    /"time" is missing or not an ISO-8601 date: 1798106400000/,
    loanBody((b) => (b['time'] = 1798106400000)),
  ),
  message(
    'time in words',
    MALFORMED,
    /"time" is missing or not an ISO-8601 date: "yesterday"/,
    loanBody((b) => (b['time'] = 'yesterday')),
  ),
  message(
    'time in US notation',
    MALFORMED,
    /"time" is missing or not an ISO-8601 date: "12\/31\/2099"/,
    loanBody((b) => (b['time'] = '12/31/2099')),
  ),
  message(
    'time a bare number string',
    MALFORMED,
    /"time" is missing or not an ISO-8601 date: "1"/,
    loanBody((b) => (b['time'] = '1')),
  ),
  message(
    'time on a day that does not exist',
    MALFORMED,
    /"time" is missing or not an ISO-8601 date: "2026-02-30T10:00:00.000Z"/,
    loanBody((b) => (b['time'] = '2026-02-30T10:00:00.000Z')),
  ),
  message(
    'time without a time zone',
    MALFORMED,
    /"time" is missing or not an ISO-8601 date: "2026-12-24T10:00:00"/,
    loanBody((b) => (b['time'] = '2026-12-24T10:00:00')),
  ),
  // The loan or request.
  message(
    'item_loan missing',
    MALFORMED,
    /"item_loan" is missing or not an object/,
    loanBody((b) => delete b['item_loan']),
  ),
  message(
    'item_loan null',
    MALFORMED,
    /"item_loan" is missing or not an object/,
    loanBody((b) => (b['item_loan'] = null)),
  ),
  message(
    'item_loan an array',
    MALFORMED,
    /"item_loan" is missing or not an object/,
    loanBody((b) => (b['item_loan'] = [loan(sample('LOAN_CREATED'))])),
  ),
  message(
    'loan id missing',
    MALFORMED,
    /"item_loan.loan_id" is (missing or not a string|empty)/,
    loanBody((b) => delete loan(b)['loan_id']),
  ),
  message(
    'loan id a number',
    MALFORMED,
    /"item_loan.loan_id" is (missing or not a string|empty)/,
    loanBody((b) => (loan(b)['loan_id'] = 7391500230004561)),
  ),
  message(
    'loan id of Unicode spaces',
    MALFORMED,
    /"item_loan.loan_id" is (missing or not a string|empty)/,
    loanBody((b) => (loan(b)['loan_id'] = '\u00a0\u2003\u3000')),
  ),
  message(
    'loan id with a NUL character',
    MALFORMED,
    /"item_loan.loan_id".*control characters/,
    loanBody((b) => (loan(b)['loan_id'] = '7391500230004561\u0000')),
  ),
  message(
    'patron id missing',
    MALFORMED,
    /"item_loan.user_id" is (missing or not a string|empty)/,
    loanBody((b) => delete loan(b)['user_id']),
  ),
  message(
    'patron id an object',
    MALFORMED,
    /"item_loan.user_id" is (missing or not a string|empty)/,
    loanBody((b) => (loan(b)['user_id'] = { value: 'PAT0042X' })),
  ),
  message(
    'patron id with an unpaired surrogate',
    MALFORMED,
    /"item_loan.user_id".*unpaired surrogate/,
    loanBody((b) => (loan(b)['user_id'] = 'PAT0042X\ud800')),
  ),
  message(
    'request id missing',
    MALFORMED,
    /"user_request.request_id" is (missing or not a string|empty)/,
    JSON.stringify({ ...sample('REQUEST_CREATED'), user_request: { ...request(sample('REQUEST_CREATED')), request_id: undefined } }),
    'REQUEST_CREATED',
  ),
  message(
    'request patron id empty',
    MALFORMED,
    /"user_request.user_primary_id" is (missing or not a string|empty)/,
    JSON.stringify({ ...sample('REQUEST_CLOSED'), user_request: { ...request(sample('REQUEST_CLOSED')), user_primary_id: '' } }),
    'REQUEST_CLOSED',
  ),
  // The one identifier rule (identifier.ts) for the event, loan and patron ids.
  message(
    'patron id "."',
    MALFORMED,
    /"item_loan.user_id" is a dot segment/,
    loanBody((b) => (loan(b)['user_id'] = '.')),
  ),
  message(
    'patron id ".."',
    MALFORMED,
    /"item_loan.user_id" is a dot segment/,
    loanBody((b) => (loan(b)['user_id'] = '..')),
  ),
  message(
    'request patron id ".."',
    MALFORMED,
    /"user_request.user_primary_id" is a dot segment/,
    JSON.stringify({ ...sample('REQUEST_CREATED'), user_request: { ...request(sample('REQUEST_CREATED')), user_primary_id: '..' } }),
    'REQUEST_CREATED',
  ),
  message(
    'loan id with a path separator',
    MALFORMED,
    /"item_loan.loan_id" holds a path separator/,
    loanBody((b) => (loan(b)['loan_id'] = '7391500230004561/../1')),
  ),
  message(
    'patron id with a percent-encoded separator',
    MALFORMED,
    /"item_loan.user_id" holds a percent-encoded path separator/,
    loanBody((b) => (loan(b)['user_id'] = 'PAT0042X%2F..')),
  ),
  message(
    'event id longer than 255 characters',
    MALFORMED,
    /"id" \(the Alma event id\) is longer than 255 characters/,
    loanBody((b) => (b['id'] = '9'.repeat(256))),
  ),
  // The replay horizon (21 days before the harness's clock) and the future allowance (300 s after it).
  message(
    'time older than the replay horizon (22 days)',
    MALFORMED,
    /"time" 2026-11-18T16:59:00.000Z is older than the replay horizon \(21 days\)/,
    loanBody((b) => (b['time'] = '2026-11-18T16:59:00.000Z')),
  ),
  message(
    'time a year old (a redriven LOAN_CREATED of a returned loan)',
    MALFORMED,
    /is older than the replay horizon/,
    loanBody((b) => (b['time'] = '2025-12-10T16:59:00.000Z')),
  ),
  message(
    'time 10 minutes in the future',
    MALFORMED,
    /"time" 2026-12-10T17:10:00.000Z is more than 300 s in the future/,
    loanBody((b) => (b['time'] = '2026-12-10T17:10:00.000Z')),
  ),
  message(
    'time in 2099 (would pin the loan for good)',
    MALFORMED,
    /is more than 300 s in the future/,
    loanBody((b) => (b['time'] = '2099-01-01T00:00:00.000Z')),
  ),
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
  message(
    'loan field too small for DynamoDB (1e-200)',
    MALFORMED,
    /"item_loan.fine" is a number too small for DynamoDB/,
    loanBody((b) => (loan(b)['fine'] = 1e-200)),
  ),
  message(
    'nested integer beyond 2^53 in a list',
    MALFORMED,
    /"item_loan.library.codes\[1\]" is an integer beyond 2\^53/,
    loanBody((b) => (loan(b)['library'] = { codes: [1, 2 ** 60] })),
  ),
  // Empty attribute names, at any depth (DynamoDB refuses them; were retried as transient).
  message(
    'empty field name in item_loan',
    MALFORMED,
    /"item_loan" holds an empty attribute name/,
    loanBody((b) => (loan(b)[''] = 'x')),
  ),
  message(
    'empty field name nested in item_loan',
    MALFORMED,
    /"item_loan.library" holds an empty attribute name/,
    loanBody((b) => (loan(b)['library'] = { '': 'MAIN' })),
  ),
  // Alma fields named like the cache's own attributes (tombstone: true hid a live loan).
  message(
    'item_loan.tombstone true (would hide a live loan)',
    MALFORMED,
    /"item_loan.tombstone" is named like one of the cache's own attributes/,
    loanBody((b) => (loan(b)['tombstone'] = true)),
  ),
  message(
    'item_loan.expires_at',
    MALFORMED,
    /"item_loan.expires_at" is named like/,
    loanBody((b) => (loan(b)['expires_at'] = 1)),
  ),
  message(
    'item_loan.alma_event_time (would pin the loan)',
    MALFORMED,
    /"item_loan.alma_event_time" is named like/,
    loanBody((b) => (loan(b)['alma_event_time'] = '2099-01-01T00:00:00.000Z')),
  ),
  message(
    'item_loan.alma_event_source (any alma_event_ name)',
    MALFORMED,
    /"item_loan.alma_event_source" is named like/,
    loanBody((b) => (loan(b)['alma_event_source'] = 'x')),
  ),
  message(
    'item_loan.user_version',
    MALFORMED,
    /"item_loan.user_version" is named like/,
    loanBody((b) => (loan(b)['user_version'] = 99)),
  ),
  message(
    'item_loan.refreshed_at',
    MALFORMED,
    /"item_loan.refreshed_at" is named like/,
    loanBody((b) => (loan(b)['refreshed_at'] = '2026-12-01T00:00:00.000Z')),
  ),
  message(
    'item_loan.removed_loan_ids (an id-set name)',
    MALFORMED,
    /"item_loan.removed_loan_ids" is named like/,
    loanBody((b) => (loan(b)['removed_loan_ids'] = ['1'])),
  ),
  message(
    'user_request.tombstone false on REQUEST_CLOSED',
    MALFORMED,
    /"user_request.tombstone" is named like/,
    JSON.stringify({ ...sample('REQUEST_CLOSED'), user_request: { ...request(sample('REQUEST_CLOSED')), tombstone: false } }),
    'REQUEST_CLOSED',
  ),
  // Size and depth.
  message(
    'huge body over the SNS limit (300 KB)',
    MALFORMED,
    /message is 30\d{4} bytes, more than SNS delivers \(262144\)/,
    loanBody((b) => (loan(b)['description'] = 'x'.repeat(300_000))),
  ),
  message(
    'huge body over the DynamoDB item limit (500 KB)',
    MALFORMED,
    /message is 50\d{4} bytes, more than SNS delivers/,
    loanBody((b) => (loan(b)['description'] = 'é'.repeat(250_000))),
  ),
  message(
    'loan field nested deeper than DynamoDB allows (40 levels)',
    MALFORMED,
    /"item_loan" nests deeper than 32 levels/,
    loanBody((b) => (loan(b)['location_code'] = nested(40))),
  ),
  // Prototype keys: JSON.parse makes them own properties; nothing may be read through them or pollute Object.prototype.
  message('required fields only under "__proto__"', MALFORMED, /"id" \(the Alma event id\) is missing/, `{"__proto__": ${SAMPLE}, "polluted": true}`),
  message(
    'loan ids only under item_loan.__proto__',
    MALFORMED,
    /"item_loan.loan_id" is (missing or not a string|empty)/,
    loanBody((b) => (b['item_loan'] = JSON.parse(`{"__proto__": ${JSON.stringify(loan(b))}}`))),
  ),
  message(
    'constructor.prototype key with no ids',
    MALFORMED,
    /"id" \(the Alma event id\) is missing/,
    '{"constructor": {"prototype": {"polluted": true}}}',
  ),
  // SNS envelope damage.
  { name: 'Lambda event null', topic: 'LOAN_CREATED', event: null, errorType: ENVELOPE, reason: /the event is not an object/ },
  {
    name: 'no Records',
    topic: 'LOAN_CREATED',
    event: damaged((e) => ({ ...e, Records: undefined })),
    errorType: ENVELOPE,
    reason: /"Records" is missing or not an array/,
  },
  {
    name: 'Records an object, not an array',
    topic: 'LOAN_CREATED',
    event: damaged((e) => ({ Records: e.Records[0] })),
    errorType: ENVELOPE,
    reason: /"Records" is missing or not an array/,
  },
  { name: 'Records empty', topic: 'LOAN_CREATED', event: { Records: [] }, errorType: ENVELOPE, reason: /exactly one record.*has 0/ },
  { name: 'Records[0] null', topic: 'LOAN_CREATED', event: { Records: [null] }, errorType: ENVELOPE, reason: /"Records\[0\]" is not an object/ },
  {
    name: 'an SQS record instead of an SNS one',
    topic: 'LOAN_CREATED',
    event: { Records: [{ eventSource: 'aws:sqs', messageId: 'm-1', body: SAMPLE }] },
    errorType: ENVELOPE,
    reason: /"Records\[0\].EventSource" is undefined, not "aws:sns"/,
  },
  {
    name: 'EventSource wrong',
    topic: 'LOAN_CREATED',
    event: damaged((e) => void (e.Records[0]['EventSource'] = 'aws:s3')),
    errorType: ENVELOPE,
    reason: /"Records\[0\].EventSource" is "aws:s3", not "aws:sns"/,
  },
  {
    name: 'Sns missing',
    topic: 'LOAN_CREATED',
    event: damaged((e) => void delete e.Records[0]['Sns']),
    errorType: ENVELOPE,
    reason: /"Records\[0\].Sns" is missing or not an object/,
  },
  {
    name: 'Sns.Message missing',
    topic: 'LOAN_CREATED',
    event: damaged((e) => void delete (e.Records[0]['Sns'] as Body)['Message']),
    errorType: ENVELOPE,
    reason: /"Records\[0\].Sns.Message" is missing or not a string/,
  },
  {
    name: 'Sns.Message a number',
    topic: 'LOAN_CREATED',
    event: damaged((e) => void ((e.Records[0]['Sns'] as Body)['Message'] = 42)),
    errorType: ENVELOPE,
    reason: /"Records\[0\].Sns.Message" is missing or not a string/,
  },
  {
    name: 'Sns.Message already parsed (an object)',
    topic: 'LOAN_CREATED',
    event: damaged((e) => void ((e.Records[0]['Sns'] as Body)['Message'] = sample('LOAN_CREATED'))),
    errorType: ENVELOPE,
    reason: /"Records\[0\].Sns.Message" is missing or not a string/,
  },
  {
    name: 'two records (SNS sends one)',
    topic: 'LOAN_CREATED',
    event: damaged((e) => ({ Records: [e.Records[0], envelope().Records[0]] })),
    errorType: ENVELOPE,
    reason: /exactly one record.*has 2/,
  },
  {
    name: 'two records, the second malformed',
    topic: 'LOAN_CREATED',
    event: damaged((e) => ({ Records: [e.Records[0], (onTopic('LOAN_CREATED', '{') as unknown as { Records: Body[] }).Records[0]] })),
    errorType: ENVELOPE,
    reason: /exactly one record.*has 2/,
  },
];

import type { Message } from '@aws-sdk/client-sqs';
import { identifierProblem, userCacheKey } from '@alma-cache/cache-domain';

/** One change notification as people read it: what the demo and `npm run changes` print. */
export interface ChangeLine {
  change: string;
  entity: string;
  recordId: string;
  patron: string;
  /** Requests only: `request_status` after the change (the `status` message attribute). */
  status?: string;
  /** The patron-visible fields a live record's write changed; absent for a created or removed record. */
  changedFields?: string[];
  source: string;
  almaEventType: string;
}

// The body comes off a queue anyone with sns:Publish on the topic can reach: nothing is printed as it came, since a
// control character would let a message rewrite the terminal.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;
const MAX_SHOWN = 120;
const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value.replace(CONTROL_CHARACTERS, '?').slice(0, MAX_SHOWN) : undefined;

/**
 * Reads a change notification delivered raw (body: the CacheChange JSON, attributes: its SNS message attributes).
 * Undefined for anything that is not one: the caller says so instead of printing it.
 *
 * @example
 * const line = readChangeMessage(message); // { change: 'loan.renewed', entity: 'loan', recordId: '7391500230004561', … }
 */
export const readChangeMessage = (message: Pick<Message, 'Body' | 'MessageAttributes'>): ChangeLine | undefined => {
  let body: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(message.Body ?? '');
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    body = parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const change = text(body['change']);
  const entity = text(body['entity']);
  const recordId = text(body['recordId']);
  if (!change || !entity || !recordId) return undefined;
  const fields = Array.isArray(body['changedFields'])
    ? body['changedFields'].map(text).filter((field): field is string => field !== undefined)
    : undefined;
  return {
    change,
    entity,
    recordId,
    patron: text(body['patron']) ?? '?',
    status: text(message.MessageAttributes?.['status']?.StringValue),
    changedFields: fields && fields.length > 0 ? fields : undefined,
    source: text(body['source']) ?? '?',
    almaEventType: text(body['almaEventType']) ?? '?',
  };
};

/**
 * One line per change, aligned for a column of them.
 *
 * @example
 * describeChange(line);
 * // 'request.status-changed  request 8812300040004561  patron pat0042x  status ON_HOLD_SHELF  changed request_status, place_in_queue  (webhook REQUEST_PLACED_ON_SHELF)'
 */
export const describeChange = (line: ChangeLine): string =>
  [
    line.change.padEnd(22),
    `${line.entity} ${line.recordId}`,
    `patron ${line.patron}`,
    ...(line.status ? [`status ${line.status}`] : []),
    ...(line.changedFields ? [`changed ${line.changedFields.join(', ')}`] : []),
    `(${line.source} ${line.almaEventType})`,
  ].join('  ');

const ENTITIES = ['loan', 'request'] as const;
// The change names of libs/cache-domain (`loan.due-date-changed`, …): a wrong one would only match nothing, so the
// shape is checked here and the topic's own list is the README's.
const CHANGE_NAME = /^(loan|request)\.[a-z]+(-[a-z]+)*$/;
/**
 * The SNS filter policy of `npm run changes` for its flags, each value checked first (they come from the command
 * line and end up in a policy SNS parses). Patrons are matched on the `patron` attribute, the lower-cased primary id.
 * @throws Error naming every flag value refused
 *
 * @example
 * filterPolicyOf({ patron: ['PAT0042X'], change: ['loan.renewed'] }); // { patron: ['pat0042x'], change: ['loan.renewed'] }
 */
export const filterPolicyOf = (flags: { patron?: string[]; record?: string[]; change?: string[]; entity?: string[] }): Record<string, string[]> => {
  const problems: string[] = [];
  const ids = (flag: string, values: string[] = []) =>
    values.filter((value) => {
      const problem = identifierProblem(value);
      if (problem) problems.push(`--${flag} ${problem}`);
      return problem === undefined;
    });
  const policy: Record<string, string[]> = {};
  const patrons = ids('patron', flags.patron).map(userCacheKey);
  const records = ids('record', flags.record);
  for (const change of flags.change ?? [])
    if (!CHANGE_NAME.test(change)) problems.push(`--change must look like loan.renewed or request.status-changed`);
  for (const entity of flags.entity ?? [])
    if (!(ENTITIES as readonly string[]).includes(entity)) problems.push(`--entity must be ${ENTITIES.join(' or ')}`);
  if (problems.length > 0) throw new Error([...new Set(problems)].join('; '));
  if (patrons.length > 0) policy['patron'] = patrons;
  if (records.length > 0) policy['recordId'] = records;
  if (flags.change?.length) policy['change'] = flags.change;
  if (flags.entity?.length) policy['entity'] = flags.entity;
  return policy;
};

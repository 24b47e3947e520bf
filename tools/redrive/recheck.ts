import {
  CloseRequest,
  InvalidEventError,
  type ItemKind,
  parseItemEvent,
  parseItemRefreshMessage,
  parseUserRefreshMessage,
  RecordLoan,
  RecordRequest,
  RemoveLoan,
  type WEBHOOK_SHAPES,
} from '@alma-cache/cache-domain';
import { type ParkedMessage, webhookOf } from './classify';
import type { EventFunction } from './queue-names';

type WebhookKind = keyof typeof WEBHOOK_SHAPES;

/** What each sns-lambdas function parses its message as: the item kind and the event types its use case accepts. */
const WEBHOOK_PARSER_OF: Readonly<Record<EventFunction, { kind: WebhookKind; accepted: readonly string[] }>> = {
  'loan-updated': { kind: 'loan', accepted: RecordLoan.eventTypes },
  'loan-returned': { kind: 'loan', accepted: RemoveLoan.eventTypes },
  'request-updated': { kind: 'request', accepted: RecordRequest.eventTypes },
  'request-closed': { kind: 'request', accepted: CloseRequest.eventTypes },
};

const ITEM_KIND_OF_QUEUE = { loans: 'loan', requests: 'request', fees: 'fee' } as const satisfies Record<string, ItemKind>;

/** `<errorType>: <message>` of a refusal, as the function logs it and gives it to its DLQ (`RefusedErrorType`/`RefusedReason`). */
const refusalOf = (check: () => unknown): string | undefined => {
  try {
    check();
    return undefined;
  } catch (error) {
    if (error instanceof InvalidEventError) return `${error.name}: ${error.message}`;
    throw error;
  }
};

/**
 * Why the function a parked message goes back to would refuse it now, in the words the function would use
 * (`MalformedEventError: Alma event 5500110001: "time" … is older than the replay horizon …`), or `undefined` when
 * it would take it. The check is the domain's own parser, on the clock `now`: an Alma event (on a cache-update DLQ, or
 * in a failure-queue record) is read by `parseItemEvent` as the function that takes it reads it (its item kind and
 * accepted event types), so an event that has aged past the replay horizon while parked is refused here rather than
 * replayed; a refresh message by the refresh queue's parser. A record whose payload is no SNS event and that was
 * refused as such is refused again.
 * Messages it cannot place (no known function) are left to the replay target's own plan.
 *
 * @example
 * refusalNow(parked, new Date()); // 'MalformedEventError: Alma event 5500110001: "time" 2026-11-01T… is older than the replay horizon (21 days): …'
 */
export const refusalNow = (message: ParkedMessage, now: Date): string | undefined => {
  const webhook = webhookOf(message);
  if (webhook) {
    const parser = WEBHOOK_PARSER_OF[webhook.fn];
    return refusalOf(() => parseItemEvent(webhook.body, parser.kind, parser.accepted, now));
  }
  if (message.kind === 'lambda-failure' && message.reasonKey === 'InvalidSnsEventError') return message.reason;
  if (message.refresh) {
    const { queueKind } = message.refresh;
    return refusalOf(() =>
      queueKind === 'users' ? parseUserRefreshMessage(message.body) : parseItemRefreshMessage(message.body, ITEM_KIND_OF_QUEUE[queueKind]),
    );
  }
  return undefined;
};

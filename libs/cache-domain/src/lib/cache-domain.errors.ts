/**
 * An Alma event that can never be applied, however often it is retried.
 *
 * Handlers log it with the Alma event id and let it fail, so that it ends in the
 * service's failure queue with `reason` as its error message.
 */
export class InvalidEventError extends Error {
  public constructor(
    public readonly reason: string,
    public readonly almaEventId?: string,
  ) {
    super(almaEventId ? `Alma event ${almaEventId}: ${reason}` : reason);
    this.name = 'InvalidEventError';
  }
}

/** The message is not JSON, or not shaped like the Alma webhook it claims to be. */
export class MalformedEventError extends InvalidEventError {
  public constructor(reason: string, almaEventId?: string) {
    super(reason, almaEventId);
    this.name = 'MalformedEventError';
  }
}

/**
 * A webhook whose `id` fails the identifier rule ({@link identifierProblem}): it would become the `alma_event_id`
 * message attribute and the key of every log line about the event. `reason` names the rule, never echoes the id.
 */
export class InvalidWebhookIdError extends MalformedEventError {
  public constructor(reason: string) {
    super(reason);
    this.name = 'InvalidWebhookIdError';
  }
}

/** A well-formed Alma event that this function does not handle (its topic subscription is wrong). */
export class UnsupportedEventTypeError extends InvalidEventError {
  public constructor(
    public readonly eventType: string,
    public readonly accepted: readonly string[],
    almaEventId?: string,
  ) {
    super(`event type ${eventType} is not handled here (accepted: ${accepted.join(', ')})`, almaEventId);
    this.name = 'UnsupportedEventTypeError';
  }
}

/**
 * A record Alma returned that the cache must not store (see `recordFieldsProblem`: fields named like the cache's own
 * attributes, empty names, numbers JSON cannot carry exactly). Asking Alma again returns the same record.
 */
export class MalformedAlmaRecordError extends InvalidEventError {
  public constructor(reason: string) {
    super(reason);
    this.name = 'MalformedAlmaRecordError';
  }
}

/** A refresh request (a Users, Loans, Requests or Fees queue message) that names no patron or record. */
export class MalformedRefreshMessageError extends InvalidEventError {
  public constructor(reason: string) {
    super(reason);
    this.name = 'MalformedRefreshMessageError';
  }
}

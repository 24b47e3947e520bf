import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULT_EXPIRY_POLICY, type ItemKind, RefreshUser, systemClock } from '@alma-cache/cache-domain';
import { DynamoDbCacheStore } from '@alma-cache/aws-adapters';
import type { FakeAlmaPatron } from '@alma-cache/alma-api/testing';
import type { LocalStack } from '../local/stack';
import { signAsAlma } from '../local/local-client';
import { type CacheSnapshot, checkCache, type ModelCheck } from './model';
import { BurstScenario, type LoadEvent, loadPatrons, SeededRandom } from './scenario';
import { type LatencySummary, peakInSlidingSecond, perSecond, summarize } from './stats';
import type { LoadOptions } from './options';

/** What the runner needs of the started stack besides the stack itself (set up once by main.ts). */
export interface LoadContext {
  readonly stack: LocalStack;
  readonly sqs: SQSClient;
  readonly dynamodb: DynamoDBDocumentClient;
  /** The queue subscribed raw to the cache-changes topic: where a webhook's write becomes visible. */
  readonly changesQueueUrl: string;
  /** Users-queue messages update-user finished, counted from the dispatcher's lines (see main.ts). */
  usersQueueProcessed: () => number;
  /** The stage's Alma budget (ALMA_CALLS_PER_SECOND of the deployed functions). */
  readonly almaBudget: number;
  readonly log: (line: string) => void;
}

export interface ParkedQueue {
  readonly queue: string;
  readonly count: number;
  /** What each parked message says (its refusal reason, or the start of its body), for the report. */
  readonly samples: readonly string[];
}

export interface RateResult {
  readonly rate: number;
  readonly durationSeconds: number;
  readonly patrons: number;
  readonly unknownPatrons: number;
  readonly sent: {
    readonly events: number;
    readonly deliveries: number;
    readonly duplicates: number;
    readonly late: number;
    readonly byType: Readonly<Record<string, number>>;
    readonly perSecondAchieved: number;
    /** Deliveries sent again after an answer other than 200, as Alma resends. */
    readonly resends: number;
    /** Events the receiver never answered 200, after every resend: Alma would still hold them. */
    readonly neverAnswered: number;
    /** Deliveries the receiver did not answer 200 (status → count; 0 = no answer). */
    readonly notOk: Readonly<Record<string, number>>;
    /** Seconds of the send phase in which the in-flight cap held sending back. */
    readonly behindSeconds: number;
  };
  /**
   * Receiver's 200 → the event's write in the cache: the cache-update function that took its message off the queue
   * returned without failing it (its conditional writes done), for every distinct event answered 200. The issue's goal.
   */
  readonly latency: LatencySummary;
  /**
   * The latency to the cache in two parts, per event: from the 200 until a poller's receive returned its message (the
   * queue: moto's receive, the pollers busy with other batches), and from there until the function returned.
   */
  readonly cacheStages: {
    readonly inQueue: LatencySummary;
    readonly inFunction: LatencySummary;
    /** The function's part for events written by a batch of cached patrons only: two DynamoDB writes each, no moto. */
    readonly inFunctionCachedOnly: LatencySummary;
  };
  readonly latenciesMs: readonly number[];
  /**
   * Receiver's 200 → the change notification of that event published: the publish-changes invocation handed its stream
   * record returned (SNS had taken every change of the batch), for every event whose notification the load received.
   */
  readonly notification: LatencySummary;
  /**
   * Receiver's 200 → the load's own subscriber read the notification off its queue. On moto this is bound by the
   * instrument: each receive of 10 takes seconds once moto is busy, so the reader falls behind the changes.
   */
  readonly subscriber: LatencySummary;
  /**
   * Where a notified event's time went, stage by stage (ms): its write after the 200; the write until the stream
   * mapping handed its record to publish-changes; that invocation's whole run (the batch's publishes); its end until
   * the subscriber's queue gave the notification to the load (negative when published before the batch ended: 0).
   */
  readonly stages: {
    readonly toCache: LatencySummary;
    readonly writeToStreamInvoke: LatencySummary;
    readonly publishInvocation: LatencySummary;
    readonly invocationToSubscriber: LatencySummary;
  };
  /** Events with no change to wait for: a newer event of the record had been answered before them (late ones). */
  readonly superseded: number;
  /**
   * Events whose state a refresh of their (unknown) patron had already written, with Alma's data read after the event:
   * the webhook's write then changes no visible field, so it publishes no change of its own.
   */
  readonly refreshedFirst: number;
  /** Events that should have changed the cache but whose change was not seen by the end (the model says why). */
  readonly unmatched: number;
  /** Events answered 200 whose message no cache-update function finished by the end of the drain. */
  readonly notWritten: number;
  readonly reads: { readonly n: number; readonly byStatus: Readonly<Record<string, number>>; readonly latency: LatencySummary };
  readonly check: Omit<ModelCheck, 'lost' | 'wrong'> & { readonly lost: number; readonly wrong: number; readonly examples: readonly string[] };
  readonly parked: readonly ParkedQueue[];
  readonly refresh: {
    /**
     * Unknown patrons sent at least one webhook (any delivery: one the receiver published but answered too late
     * still reaches the cache and may queue the refresh, so the bound counts it too).
     */
    readonly unknownWithWebhook: number;
    /** Unknown patrons only a reader asked for: a miss whose inline rebuild Alma could not serve queues them too. */
    readonly unknownOnlyRead: number;
    /** Users-queue messages update-user finished (the dispatcher's count: redeliveries included). */
    readonly usersQueueMessages: number;
    /** Patrons with at least one finished Users-queue message. */
    readonly patronsRefreshed: number;
    /** Patrons with two or more distinct Users-queue messages: the coalescing bound (one per patron) broken. */
    readonly patronsRefreshedTwice: number;
    /** Patrons queued for a refresh although the cache held them before the burst. */
    readonly refreshedNotUnknown: number;
    /** Finishes of a message id already finished once: SQS's at-least-once delivery, not a second refresh. */
    readonly redeliveries: number;
    readonly claims: number;
    /** The most rebuilds of one patron seen at Alma (calls listing their loans). */
    readonly maxRebuildsOfOnePatron: number;
  };
  readonly alma: { readonly calls: number; readonly peakPerSlidingSecond: number; readonly budget: number };
  readonly drain: { readonly seconds: number; readonly complete: boolean };
  readonly timeline: {
    readonly webhooksIn: readonly number[];
    /** Webhook messages the cache-update functions finished per second (their writes applied). */
    readonly applied: readonly number[];
    /** Change notifications received per second. */
    readonly notified: readonly number[];
    readonly queueDepth: readonly number[];
    readonly almaCalls: readonly number[];
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/**
 * Deliveries of one webhook at most, counting the first: Alma keeps resending one it got no 200 for. The resends come
 * 1, 5, 15, 30 and 60 s after the failure before them (about 2 minutes in all), slowing down as webhook senders do: a
 * receiver shedding load with 503 gets the event later instead of the run giving up on it, and the resends do not
 * pile onto an emulator already past its capacity (at 1 s apart, 12 deliveries turned a 25/s burst into a retry storm
 * on moto: every 503 was a publish that timed out client-side and still landed).
 */
export const RESEND_ATTEMPTS = 6;
const RESEND_DELAYS_MS = [1000, 5000, 15_000, 30_000, 60_000] as const;
const resendDelayMs = (attempt: number) => RESEND_DELAYS_MS[Math.min(attempt, RESEND_DELAYS_MS.length) - 1];

/** The Alma event id of a webhook body (its top-level `id`), or undefined for a body that is not one. */
const almaEventIdOf = (body: string): string | undefined => {
  try {
    const id = (JSON.parse(body) as { id?: unknown } | null)?.id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
};
const KIND_LISTS: Record<ItemKind, 'loans' | 'requests' | 'fees'> = { loan: 'loans', request: 'requests', fee: 'fees' };

const scanAll = async (client: DynamoDBDocumentClient, table: string, key: string): Promise<Map<string, Record<string, unknown>>> => {
  const rows = new Map<string, Record<string, unknown>>();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) rows.set(String(item[key]), item);
    start = page.LastEvaluatedKey;
  } while (start);
  return rows;
};

const depthOf = async (sqs: SQSClient, queueUrl: string): Promise<number> => {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes['ApproximateNumberOfMessages'] ?? 0) + Number(Attributes['ApproximateNumberOfMessagesNotVisible'] ?? 0);
};

/**
 * Reads the change notifications off the load's own queue while the run lasts: for each webhook event, when its change
 * arrived (first notification carrying its Alma event id), and every arrival, for the timeline's writes applied.
 */
export class ChangeWatcher {
  public readonly firstSeen = new Map<string, number>();
  public readonly arrivals: number[] = [];
  /** Records a refresh wrote a change of (its own notification, `source` not `webhook`). */
  public readonly refreshed = new Set<string>();
  private running = true;
  private readonly loops: Promise<void>[];

  public constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    lanes: number,
  ) {
    this.loops = Array.from({ length: lanes }, () => this.loop());
  }

  public async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        const { Messages = [] } = await this.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        const at = Date.now();
        for (const message of Messages) {
          let change: { almaEventId?: unknown; source?: unknown; recordId?: unknown };
          try {
            change = JSON.parse(message.Body ?? '{}') as typeof change;
          } catch {
            continue;
          }
          this.arrivals.push(at);
          if (change.source !== 'webhook' && typeof change.recordId === 'string') this.refreshed.add(change.recordId);
          if (change.source === 'webhook' && typeof change.almaEventId === 'string' && !this.firstSeen.has(change.almaEventId))
            this.firstSeen.set(change.almaEventId, at);
        }
        if (Messages.length > 0)
          await this.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: this.queueUrl,
              Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
            }),
          );
      } catch {
        if (this.running) await sleep(200);
      }
    }
  }
}

/**
 * Pre-caches patrons through the refresh's own use case (RefreshUser, the code update-user runs), with Alma read in
 * process from the fake Alma's arrays: the set-up spends none of the stage's Alma budget, which the run measures.
 */
const precache = async (ctx: LoadContext, patrons: readonly FakeAlmaPatron[]) => {
  const { tables } = ctx.stack;
  const store = new DynamoDbCacheStore(ctx.dynamodb, {
    users: tables['UsersTable'],
    loans: tables['LoansTable'],
    requests: tables['RequestsTable'],
    fees: tables['FeesTable'],
    refreshClaims: tables['UserRefreshClaimsTable'],
  });
  const byId = new Map(patrons.map((patron) => [patron.primaryId.toLowerCase(), patron]));
  const refresh = new RefreshUser({
    store,
    clock: systemClock,
    expiry: DEFAULT_EXPIRY_POLICY,
    alma: {
      listRecords: async (id, kind) => byId.get(id.toLowerCase())?.[KIND_LISTS[kind]] ?? [],
      getRecord: async () => undefined,
    },
  });
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < patrons.length) await refresh.execute(patrons[next++].primaryId);
    }),
  );
};

/** Every DLQ and failure queue of the stack, with what is parked there. */
export const parkedQueues = async (ctx: LoadContext): Promise<ParkedQueue[]> => {
  const parked: ParkedQueue[] = [];
  for (const url of Object.values(ctx.stack.queues).filter((queueUrl) => /-(dlq|failures)$/.test(queueUrl))) {
    const count = await depthOf(ctx.sqs, url);
    const samples: string[] = [];
    if (count > 0) {
      const { Messages = [] } = await ctx.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 0, MessageAttributeNames: ['All'] }),
      );
      for (const message of Messages) {
        const reason = message.MessageAttributes?.['RefusedReason']?.StringValue;
        samples.push(reason ?? (message.Body ?? '').slice(0, 80));
      }
    }
    parked.push({ queue: url.split('/').pop() ?? url, count, samples });
  }
  return parked;
};

/**
 * One rate: seeds the fake Alma with this rate's own patrons, pre-caches all but the unknown share, sends the burst
 * with readers querying, drains, and checks the cache against the model.
 */
export const runRate = async (ctx: LoadContext, options: LoadOptions, rate: number, index: number): Promise<RateResult> => {
  const { stack, sqs, log } = ctx;
  const random = new SeededRandom(options.seed * 101 + index);
  const patrons = loadPatrons(String(index + 1), options.patrons);
  for (const patron of patrons) stack.alma.seedPatron(patron);
  const shuffled = [...patrons];
  for (let i = shuffled.length - 1; i > 0; i -= 1) {
    const j = random.int(0, i);
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  const unknownCount = Math.round(patrons.length * options.unknownShare);
  const unknown = new Set(shuffled.slice(0, unknownCount).map((patron) => patron.primaryId));
  const known = patrons.filter((patron) => !unknown.has(patron.primaryId));
  const setupStart = Date.now();
  await precache(ctx, known);
  await stack.settle(180_000);
  log(
    `rate ${rate}/s: ${known.length} patrons pre-cached through RefreshUser, ${unknown.size} unknown, in ${((Date.now() - setupStart) / 1000).toFixed(1)} s`,
  );

  // Warm-up, outside the measurement and the model: every function loaded once (a cold start here is a require of a
  // bundle that blocks this one process for a second or more, which a burst on warm Lambda containers never sees).
  const warmPatrons = loadPatrons(`${index + 1}W`, 5);
  for (const patron of warmPatrons) stack.alma.seedPatron(patron);
  const warmScenario = new BurstScenario(new SeededRandom(options.seed), warmPatrons, `6${index + 1}`);
  for (let i = 0; i < 24; i += 1) {
    const body = warmScenario.next(Date.now() - 60_000 + i * 2_500).body;
    await fetch(`${stack.session.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-exl-signature': signAsAlma(stack.session.webhookSecret, body) },
      body,
    }).then((response) => response.arrayBuffer());
  }
  await fetch(`${stack.session.url}/users/${warmPatrons[0].primaryId}`, { headers: { authorization: `Bearer ${stack.session.readerToken}` } }).then(
    (response) => response.arrayBuffer(),
  );
  await stack.settle(180_000);

  const watcher = new ChangeWatcher(sqs, ctx.changesQueueUrl, 2);
  await sleep(1500);
  const scenario = new BurstScenario(random, patrons, `7${index + 1}`);
  const functionQueues = stack.functions.filter((fn) => fn.project === 'sns-lambdas').flatMap((fn) => fn.queues);
  const watchedQueues = [...functionQueues, stack.queues['UsersQueue']].filter((url): url is string => url !== undefined);
  const almaCallsBefore = stack.alma.calls.length;
  const usersBefore = ctx.usersQueueProcessed();

  const firstOk = new Map<string, number>();
  // Each event's message first finished by its cache-update function (whoever polled its queue): when the poller's
  // receive returned it, when the function returned, and the event ids of that batch.
  const written = new Map<string, { receivedAt: number; finishedAt: number; batch: readonly string[] }>();
  const writes: number[] = [];
  // When publish-changes was handed each event's stream record, and when that invocation ended.
  const streamed = new Map<string, { startedAt: number; finishedAt: number }>();
  const stopObservingStreams = stack.observeStreamInvocations((invocation) => {
    for (const record of invocation.records) {
      const id = record.dynamodb?.NewImage?.['alma_event_id']?.S;
      if (id !== undefined && !streamed.has(id)) streamed.set(id, { startedAt: invocation.startedAt, finishedAt: invocation.finishedAt });
    }
  });
  // Per patron, the Users-queue messages update-user finished: two message ids for one patron are two refreshes queued,
  // one id finished twice is SQS delivering the same message again (at least once), which the bound does not count.
  const refreshMessages = new Map<string, Set<string>>();
  let refreshRedeliveries = 0;
  const stopObserving = stack.observeDeliveries((delivery) => {
    if (delivery.queueUrl === stack.queues['UsersQueue']) {
      delivery.doneBodies.forEach((body, i) => {
        const ids = refreshMessages.get(body) ?? new Set<string>();
        if (ids.has(delivery.doneMessageIds[i])) refreshRedeliveries += 1;
        ids.add(delivery.doneMessageIds[i]);
        refreshMessages.set(body, ids);
      });
      return;
    }
    if (!functionQueues.includes(delivery.queueUrl)) return;
    const batch = delivery.doneBodies.map(almaEventIdOf).filter((id): id is string => id !== undefined);
    for (const id of batch) if (!written.has(id)) written.set(id, { receivedAt: delivery.receivedAt, finishedAt: delivery.finishedAt, batch });
    writes.push(...delivery.doneBodies.map(() => delivery.finishedAt));
  });
  const sendTimes: number[] = [];
  const notOk: Record<string, number> = {};
  const byType: Record<string, number> = {};
  let deliveries = 0;
  let resends = 0;
  let lastDeliveryAt = Date.now();
  let duplicates = 0;
  let late = 0;
  let inFlight = 0;
  const behind = new Set<number>();
  const pending: { at: number; event: LoadEvent }[] = [];
  const sending: Promise<void>[] = [];
  const reads: { ms: number; status: string }[] = [];
  const readPatrons = new Set<string>();
  const depth: { at: number; value: number }[] = [];

  // As Alma does with a webhook not answered 200: sent again, here after 1 s, at most RESEND_ATTEMPTS times in all.
  const deliver = (event: LoadEvent, attempt = 1) => {
    deliveries += attempt === 1 ? 1 : 0;
    resends += attempt === 1 ? 0 : 1;
    inFlight += 1;
    lastDeliveryAt = Date.now();
    const body = event.body;
    const done = fetch(`${stack.session.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-exl-signature': signAsAlma(stack.session.webhookSecret, body) },
      body,
    })
      .then(async (response) => {
        await response.arrayBuffer();
        return response.status;
      })
      .catch(() => 0)
      .then(async (status) => {
        const at = Date.now();
        inFlight -= 1;
        if (status === 200) {
          sendTimes.push(at);
          if (!firstOk.has(event.eventId)) firstOk.set(event.eventId, at);
          return;
        }
        notOk[String(status)] = (notOk[String(status)] ?? 0) + 1;
        if (attempt < RESEND_ATTEMPTS) {
          await sleep(resendDelayMs(attempt));
          deliver(event, attempt + 1);
        }
      });
    sending.push(done);
  };

  const start = Date.now();
  const sendUntil = start + options.durationSeconds * 1000;
  let generated = 0;
  let stopReaders = false;
  const readerLoop = (async () => {
    if (options.readersPerSecond === 0) return;
    let issued = 0;
    const inFlightReads: Promise<void>[] = [];
    while (!stopReaders && Date.now() < sendUntil) {
      const due = Math.floor(((Date.now() - start) / 1000) * options.readersPerSecond);
      for (; issued < due; issued += 1) {
        const patron = random.pick(patrons).primaryId;
        readPatrons.add(patron);
        const began = Date.now();
        inFlightReads.push(
          fetch(`${stack.session.url}/users/${patron}`, { headers: { authorization: `Bearer ${stack.session.readerToken}` } })
            .then(async (response) => {
              await response.arrayBuffer();
              reads.push({
                ms: Date.now() - began,
                status: `${response.status}${response.headers.get('x-cache') ? ` ${response.headers.get('x-cache')}` : ''}`,
              });
            })
            .catch(() => {
              reads.push({ ms: Date.now() - began, status: 'no answer' });
            }),
        );
      }
      await sleep(20);
    }
    await Promise.all(inFlightReads);
  })();

  let sampling = true;
  const sampler = (async () => {
    let tick = 0;
    while (sampling) {
      const value = (await Promise.all(watchedQueues.map((url) => depthOf(sqs, url).catch(() => 0)))).reduce((a, b) => a + b, 0);
      const at = Date.now();
      depth.push({ at, value });
      if (tick++ % 3 === 0) {
        const almaLastSecond = stack.alma.calls.filter((call) => call.receivedAt > at - 1000).length;
        log(
          `[${((at - start) / 1000).toFixed(0).padStart(4)} s] rate ${rate}/s: sent ${deliveries}, answered 200 ${firstOk.size}, ` +
            `written ${written.size}, notified ${watcher.firstSeen.size}, queue depth ${value}, Alma calls/s ${almaLastSecond}, reads ${reads.length}`,
        );
      }
      await sleep(1000);
    }
  })();

  // The send phase: the due number of events every few ms, each sent now or held back (late), some sent twice.
  while (Date.now() < sendUntil && deliveries < options.maxWebhooks) {
    const now = Date.now();
    const due = Math.floor(((now - start) / 1000) * rate);
    while (generated < due && deliveries < options.maxWebhooks) {
      if (inFlight >= options.maxInFlight) {
        behind.add(Math.floor((now - start) / 1000));
        break;
      }
      generated += 1;
      const event = scenario.next(now);
      byType[event.type] = (byType[event.type] ?? 0) + 1;
      if (random.chance(options.lateShare)) {
        late += 1;
        pending.push({ at: now + random.int(500, 3000), event });
      } else deliver(event);
      if (random.chance(options.duplicateShare)) {
        duplicates += 1;
        pending.push({ at: now + random.int(1000, 5000), event });
      }
    }
    for (let i = pending.length - 1; i >= 0; i -= 1) {
      if (pending[i].at <= now && deliveries < options.maxWebhooks) {
        deliver(pending[i].event);
        pending.splice(i, 1);
      }
    }
    await sleep(5);
  }
  // Late and repeated deliveries still owed are part of the burst: they go at their time (a few seconds at most).
  while (pending.length > 0 && deliveries < options.maxWebhooks) {
    const now = Date.now();
    for (let i = pending.length - 1; i >= 0; i -= 1) {
      if (pending[i].at <= now) {
        deliver(pending[i].event);
        pending.splice(i, 1);
      }
    }
    await sleep(5);
  }
  // Resends add to `sending` while it is awaited: wait until no delivery is left.
  for (let settled = 0; settled < sending.length; settled = sending.length) await Promise.all(sending.slice(settled));
  stopReaders = true;
  await readerLoop;
  const sendEnd = Date.now();
  log(
    `rate ${rate}/s: send phase over: ${deliveries} deliveries in ${((sendEnd - start) / 1000).toFixed(1)} s; draining (at most ${options.drainTimeoutSeconds} s)`,
  );

  // Drain: every queue empty three samples running, and no change notification for 3 s.
  const drainDeadline = sendEnd + options.drainTimeoutSeconds * 1000;
  let complete = false;
  while (Date.now() < drainDeadline) {
    const recent = depth.slice(-3);
    const quiet = (watcher.arrivals.at(-1) ?? 0) < Date.now() - 3000;
    if (recent.length === 3 && recent.every((sample) => sample.at > sendEnd && sample.value === 0) && quiet) {
      try {
        await stack.settle(Math.max(1000, Math.min(30_000, drainDeadline - Date.now())));
        complete = true;
      } catch {
        continue;
      }
      break;
    }
    await sleep(500);
  }
  await sleep(1500);
  sampling = false;
  await sampler;
  await watcher.stop();
  stopObserving();
  stopObservingStreams();
  const end = Date.now();
  log(
    `rate ${rate}/s: drain ${complete ? 'complete' : 'timed out'} after ${((end - sendEnd) / 1000).toFixed(1)} s; checking the cache against the model`,
  );

  // Latency to the cache: each distinct event answered 200, to its write. A write can land before the 200 reaches
  // the sender (the receiver answers after its publish; the queue may be faster): that counts as 0.
  const latenciesMs: number[] = [];
  // Split in two: waiting in the function's queue (until a poller's receive returned it) and the function's invocation
  // that wrote it (its whole batch). The publish to SNS and SQS is before the 200 (the receiver answers after it).
  const cacheStageMs = { inQueue: [] as number[], inFunction: [] as number[], inFunctionCachedOnly: [] as number[] };
  // A batch with an unknown patron's event also claims a refresh and sends to the Users queue (moto); one without
  // makes only the two DynamoDB writes per event.
  const patronOfEvent = new Map(scenario.events.map((event) => [event.eventId, event.patron]));
  const cachedOnly = (batch: readonly string[]) => batch.every((id) => !unknown.has(patronOfEvent.get(id) ?? ''));
  let notWritten = 0;
  for (const event of scenario.events) {
    const ok = firstOk.get(event.eventId);
    if (ok === undefined) continue;
    const write = written.get(event.eventId);
    if (write === undefined) notWritten += 1;
    else {
      latenciesMs.push(Math.max(0, write.finishedAt - ok));
      cacheStageMs.inQueue.push(Math.max(0, write.receivedAt - ok));
      const inFunction = Math.max(0, write.finishedAt - Math.max(write.receivedAt, ok));
      cacheStageMs.inFunction.push(inFunction);
      if (cachedOnly(write.batch)) cacheStageMs.inFunctionCachedOnly.push(inFunction);
    }
  }
  // And to its change notification, for each event that changed something a patron sees.
  const notificationMs: number[] = [];
  const subscriberMs: number[] = [];
  const stageMs = {
    toCache: [] as number[],
    writeToStreamInvoke: [] as number[],
    publishInvocation: [] as number[],
    invocationToSubscriber: [] as number[],
  };
  let superseded = 0;
  let unmatched = 0;
  let refreshedFirst = 0;
  for (const event of scenario.events) {
    const ok = firstOk.get(event.eventId);
    if (ok === undefined) continue;
    const seen = watcher.firstSeen.get(event.eventId);
    if (seen !== undefined) {
      subscriberMs.push(Math.max(0, seen - ok));
      const at = written.get(event.eventId)?.finishedAt;
      const invocation = streamed.get(event.eventId);
      if (invocation !== undefined) notificationMs.push(Math.max(0, invocation.finishedAt - ok));
      if (at !== undefined && invocation !== undefined) {
        stageMs.toCache.push(Math.max(0, at - ok));
        stageMs.writeToStreamInvoke.push(Math.max(0, invocation.startedAt - at));
        stageMs.publishInvocation.push(invocation.finishedAt - invocation.startedAt);
        stageMs.invocationToSubscriber.push(Math.max(0, seen - invocation.finishedAt));
      }
    } else {
      // A newer event of the record answered before this one (events are generated in Alma time order).
      const newerFirst = scenario.events.some(
        (other) => other.itemId === event.itemId && other.time > event.time && (firstOk.get(other.eventId) ?? Infinity) <= ok,
      );
      if (newerFirst) superseded += 1;
      else if (watcher.refreshed.has(event.itemId)) refreshedFirst += 1;
      else unmatched += 1;
    }
  }

  const snapshot: CacheSnapshot = {
    users: await scanAll(ctx.dynamodb, stack.tables['UsersTable'], 'primary_id'),
    loans: await scanAll(ctx.dynamodb, stack.tables['LoansTable'], 'loan_id'),
    requests: await scanAll(ctx.dynamodb, stack.tables['RequestsTable'], 'request_id'),
    fees: await scanAll(ctx.dynamodb, stack.tables['FeesTable'], 'fee_id'),
  };
  const unknownWithWebhook = new Set([...unknown].filter((id) => scenario.events.some((event) => event.patron === id)));
  const withWebhook = new Set(scenario.events.filter((event) => firstOk.has(event.eventId)).map((event) => event.patron));
  const mustBeCached = new Set([...known.map((patron) => patron.primaryId), ...[...unknown].filter((id) => withWebhook.has(id))]);
  const answered = scenario.events.filter((event) => firstOk.has(event.eventId));
  const check = checkCache(patrons, answered, mustBeCached, snapshot, scenario.events);
  const prefix = `l${index + 1}p`;
  const claims = [...(await scanAll(ctx.dynamodb, stack.tables['UserRefreshClaimsTable'], 'primary_id')).keys()].filter((key) =>
    key.startsWith(prefix),
  );
  const almaCalls = stack.alma.calls.slice(almaCallsBefore);
  const loanLists = new Map<string, number>();
  for (const call of almaCalls) {
    const match = /^\/almaws\/v1\/users\/([^/]+)\/loans\/?$/.exec(call.path);
    // A rebuild lists the patron's loans from the first page once (later pages carry an offset above 0).
    if (match && (call.query['offset'] ?? '0') === '0') loanLists.set(match[1].toLowerCase(), (loanLists.get(match[1].toLowerCase()) ?? 0) + 1);
  }
  const seconds = Math.ceil((end - start) / 1000);
  const depthPerSecond = new Array<number>(seconds).fill(0);
  for (const sample of depth) {
    const at = Math.floor((sample.at - start) / 1000);
    if (at >= 0 && at < seconds) depthPerSecond[at] = Math.max(depthPerSecond[at], sample.value);
  }
  const byStatus: Record<string, number> = {};
  for (const read of reads) byStatus[read.status] = (byStatus[read.status] ?? 0) + 1;
  // Achieved: deliveries over the time it took to start them (replies still due after that are not sending time).
  const sendSeconds = Math.max(0.001, (lastDeliveryAt - start) / 1000);
  return {
    rate,
    durationSeconds: options.durationSeconds,
    patrons: patrons.length,
    unknownPatrons: unknown.size,
    sent: {
      events: scenario.events.length,
      deliveries,
      duplicates,
      late,
      byType,
      resends,
      neverAnswered: scenario.events.filter((event) => !firstOk.has(event.eventId)).length,
      perSecondAchieved: deliveries / sendSeconds,
      notOk,
      behindSeconds: behind.size,
    },
    latency: summarize(latenciesMs),
    cacheStages: {
      inQueue: summarize(cacheStageMs.inQueue),
      inFunction: summarize(cacheStageMs.inFunction),
      inFunctionCachedOnly: summarize(cacheStageMs.inFunctionCachedOnly),
    },
    latenciesMs,
    notWritten,
    notification: summarize(notificationMs),
    subscriber: summarize(subscriberMs),
    stages: {
      toCache: summarize(stageMs.toCache),
      writeToStreamInvoke: summarize(stageMs.writeToStreamInvoke),
      publishInvocation: summarize(stageMs.publishInvocation),
      invocationToSubscriber: summarize(stageMs.invocationToSubscriber),
    },
    superseded,
    refreshedFirst,
    unmatched,
    reads: { n: reads.length, byStatus, latency: summarize(reads.map((read) => read.ms)) },
    check: {
      patronsChecked: check.patronsChecked,
      recordsChecked: check.recordsChecked,
      lost: check.lost.length,
      wrong: check.wrong.length,
      examples: [...check.lost, ...check.wrong].slice(0, 10).map((difference) => `${difference.verdict}: ${difference.what}`),
    },
    parked: await parkedQueues(ctx),
    refresh: {
      unknownWithWebhook: unknownWithWebhook.size,
      unknownOnlyRead: [...unknown].filter((id) => !unknownWithWebhook.has(id) && readPatrons.has(id)).length,
      usersQueueMessages: ctx.usersQueueProcessed() - usersBefore,
      patronsRefreshed: refreshMessages.size,
      patronsRefreshedTwice: [...refreshMessages.values()].filter((ids) => ids.size > 1).length,
      refreshedNotUnknown: [...refreshMessages.keys()].filter((id) => !unknown.has(id)).length,
      redeliveries: refreshRedeliveries,
      claims: claims.length,
      maxRebuildsOfOnePatron: Math.max(0, ...loanLists.values()),
    },
    alma: {
      calls: almaCalls.length,
      peakPerSlidingSecond: peakInSlidingSecond(almaCalls.map((call) => call.receivedAt)).count,
      budget: ctx.almaBudget,
    },
    drain: { seconds: (end - sendEnd) / 1000, complete },
    timeline: {
      webhooksIn: perSecond(sendTimes, start, seconds),
      applied: perSecond(writes, start, seconds),
      notified: perSecond(watcher.arrivals, start, seconds),
      queueDepth: depthPerSecond,
      almaCalls: perSecond(
        almaCalls.map((call) => call.receivedAt),
        start,
        seconds,
      ),
    },
  };
};

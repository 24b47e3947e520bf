import { PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  type AlmaEventType,
  CloseRequest,
  DEFAULT_EXPIRY_POLICY,
  type ItemSyncDeps,
  RecordLoan,
  RecordRequest,
  RemoveLoan,
  type SyncOutcome,
  systemClock,
  userCacheKey,
} from '@alma-cache/cache-domain';
import { InMemoryUserRefreshQueue } from '@alma-cache/cache-domain/testing';
import { type CacheTableNames, DynamoDbCacheStore } from '@alma-cache/aws-adapters';
import { countingDocumentClient } from '@alma-cache/aws-adapters/testing';
import { type BenchRow, type ChartPanel, type FigureResult, overallVerdict, verdictOf } from './figure';
import { EVENTS_IN_TIME_ORDER, functionOf, HANDLER_EVENTS, sampleMessage, SNS_FUNCTIONS } from './sample-events';
import { fmt, spread } from './stats';

/** The design this stack replaced: a read of the patron, then the item and the patron written (issue 6). */
export const ORIGINAL_EVENT_COST = { requests: 3, writeUnits: 2, readUnits: 0.5 } as const;
export const EVENT_COST_GOAL = { requests: 2, writeUnits: 2, readUnits: 0 } as const;

interface EventCost {
  requests: number;
  reads: number;
  writeUnits: number;
  readUnits: number;
}

const READ_COMMANDS = new Set(['GetCommand', 'GetItemCommand', 'QueryCommand', 'ScanCommand', 'BatchGetCommand', 'BatchGetItemCommand']);

/**
 * Requests and capacity per event, counted by SDK middleware on the document client the real DynamoDbCacheStore
 * uses; DynamoDB Local reports ConsumedCapacity when asked. Each repeat plays the eight sample events in Alma's
 * order for a cached patron (the common path), then once more for patrons the cache does not know (3 requests and
 * a queued refresh, shown for information). Counts are deterministic; repeats guard against a path that varies.
 */
export const measureEventCost = async (tables: CacheTableNames, repeats: number): Promise<FigureResult> => {
  const { client, requests } = countingDocumentClient();
  const refreshQueue = new InMemoryUserRefreshQueue();
  const deps: ItemSyncDeps = { store: new DynamoDbCacheStore(client, tables), refreshQueue, clock: systemClock, expiry: DEFAULT_EXPIRY_POLICY };
  const useCases: Record<string, { execute(message: string): Promise<SyncOutcome> }> = {
    'loan-updated': new RecordLoan(deps),
    'loan-returned': new RemoveLoan(deps),
    'request-updated': new RecordRequest(deps),
    'request-closed': new CloseRequest(deps),
  };
  const cached = new Map<AlmaEventType, EventCost[]>();
  const unknown = new Map<AlmaEventType, EventCost[]>();
  const play = async (type: AlmaEventType, suffix: string, patron: string, into: Map<AlmaEventType, EventCost[]>) => {
    const before = requests.length;
    await useCases[functionOf(type)].execute(sampleMessage(type, suffix, patron));
    const sent = requests.slice(before);
    const cost: EventCost = {
      requests: sent.length,
      reads: sent.filter((request) => READ_COMMANDS.has(request.command)).length,
      writeUnits: sent.reduce((sum, request) => sum + (request.writeUnits ?? 0), 0),
      readUnits: sent.reduce((sum, request) => sum + (request.readUnits ?? 0), 0),
    };
    into.set(type, [...(into.get(type) ?? []), cost]);
  };

  try {
    for (let repeat = 0; repeat < repeats; repeat += 1) {
      const patron = `BENCH-CACHED-${repeat}-${Date.now()}`;
      // Seeded as a refresh would leave it; not counted, it is not part of any event.
      await client.send(new PutCommand({ TableName: tables.users, Item: { primary_id: userCacheKey(patron), refreshed_at: 1 } }));
      requests.length = 0;
      for (const type of EVENTS_IN_TIME_ORDER) await play(type, `-c${repeat}-${patron}`, patron, cached);
      for (const type of EVENTS_IN_TIME_ORDER) await play(type, `-u${repeat}-${patron}`, `BENCH-UNKNOWN-${type}-${repeat}-${Date.now()}`, unknown);
    }
  } finally {
    client.destroy();
  }
  return eventCostResult(cached, unknown, refreshQueue.messages.length / Math.max(1, repeats));
};

const costRow = (figure: string, subject: string, costs: readonly EventCost[], withGoal: boolean): BenchRow => {
  const requests = spread(costs.map((c) => c.requests));
  const wcu = spread(costs.map((c) => c.writeUnits));
  const rcu = spread(costs.map((c) => c.readUnits));
  const reads = spread(costs.map((c) => c.reads));
  const passed = requests.max <= EVENT_COST_GOAL.requests && reads.max === 0 && rcu.max === 0 && wcu.max <= EVENT_COST_GOAL.writeUnits;
  const range = (s: ReturnType<typeof spread>) => (s.min === s.max ? fmt(s.median) : `${fmt(s.min)}–${fmt(s.max)}`);
  return {
    figure,
    subject,
    measured: `${range(requests)} req, ${range(reads)} reads, ${range(wcu)} WCU + ${range(rcu)} RCU`,
    goal: withGoal ? `≤ ${EVENT_COST_GOAL.requests} req, no reads, ≤ ${EVENT_COST_GOAL.writeUnits} WCU` : '— (information)',
    floor: withGoal
      ? '2 writes, 2 WCU, no read: the record must be written and the patron must learn its id, two items in two tables; ' +
        'a read first or a transaction (2× the units) would only add'
      : 'no floor: an unknown patron also takes a refresh claim (and a queued refresh), which the cached path never needs',
    original: `${ORIGINAL_EVENT_COST.requests} req, ${ORIGINAL_EVENT_COST.writeUnits} WCU + ${ORIGINAL_EVENT_COST.readUnits} RCU`,
    verdict: withGoal ? verdictOf(passed) : 'info',
    values: [requests.max, wcu.max, rcu.max, reads.max],
  };
};

const eventCostResult = (
  cached: Map<AlmaEventType, EventCost[]>,
  unknown: Map<AlmaEventType, EventCost[]>,
  refreshesPerRepeat: number,
): FigureResult => {
  const rows: BenchRow[] = [];
  for (const fn of SNS_FUNCTIONS) {
    for (const type of HANDLER_EVENTS[fn])
      rows.push(costRow('DynamoDB cost per event, cached patron', `${fn} ← ${type}`, cached.get(type) ?? [], true));
  }
  for (const fn of SNS_FUNCTIONS) {
    const costs = HANDLER_EVENTS[fn].flatMap((type) => unknown.get(type) ?? []);
    rows.push(costRow('DynamoDB cost per event, unknown patron', `${fn} (${HANDLER_EVENTS[fn].length} event types)`, costs, false));
  }
  const all = [...cached.values()].flat();
  const allUnknown = [...unknown.values()].flat();
  const requests = spread(all.map((c) => c.requests));
  const wcu = spread(all.map((c) => c.writeUnits));
  const rcu = spread(all.map((c) => c.readUnits));
  const verdict = overallVerdict(rows);
  const summary =
    `[bench] DynamoDB cost per event (cached patron, 8 events × ${all.length / 8} repeats): max ${fmt(requests.max)} requests, ` +
    `max ${fmt(wcu.max)} WCU + ${fmt(rcu.max)} RCU (goal <= 2 requests, no reads, <= 2 WCU; original design 3 requests, 2 WCU + 0.5 RCU); ` +
    `unknown patron: max ${fmt(spread(allUnknown.map((c) => c.requests)).max)} requests + ${fmt(refreshesPerRepeat)} refresh messages per 8 events ${verdict}`;
  const panel = (title: string, pick: (c: EventCost) => number, goal: number, original: number, unit: string): ChartPanel => ({
    title,
    unit,
    bars: SNS_FUNCTIONS.map((fn) => ({
      label: fn,
      spread: spread(HANDLER_EVENTS[fn].flatMap((type) => (cached.get(type) ?? []).map(pick))),
      goal,
      original,
    })),
  });
  return {
    key: 'event-cost',
    summary,
    rows,
    panels: [
      panel('DynamoDB requests per event (cached patron)', (c) => c.requests, EVENT_COST_GOAL.requests, ORIGINAL_EVENT_COST.requests, 'requests'),
      panel(
        'Capacity units per event (WCU + RCU)',
        (c) => c.writeUnits + c.readUnits,
        EVENT_COST_GOAL.writeUnits,
        ORIGINAL_EVENT_COST.writeUnits + ORIGINAL_EVENT_COST.readUnits,
        'capacity units',
      ),
    ],
  };
};

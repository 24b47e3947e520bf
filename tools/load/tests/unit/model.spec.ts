import { type CacheSnapshot, checkCache } from '../../model';
import { BurstScenario, EVENT_MIX, loadPatrons, MIN_RECORD_GAP_MS, SeededRandom } from '../../scenario';

type Row = Record<string, unknown>;

/**
 * The cache a correct run ends with, built here by hand from the scenario (latest event per record, Alma's lists for
 * the patrons' sets): what the checker must accept, and then break one thing at a time.
 */
const correctCache = (
  scenario: BurstScenario,
  patrons: ReturnType<typeof loadPatrons>,
): { users: Map<string, Row>; loans: Map<string, Row>; requests: Map<string, Row>; fees: Map<string, Row> } => {
  const refreshTime = '2026-01-01T00:00:00.000Z';
  const loans = new Map<string, Row>();
  const requests = new Map<string, Row>();
  const fees = new Map<string, Row>();
  const users = new Map<string, Row>();
  for (const patron of patrons) {
    for (const loan of patron.loans) loans.set(String(loan['loan_id']), { ...loan, alma_event_type: 'REFRESH', alma_event_time: refreshTime });
    for (const request of patron.requests)
      requests.set(String(request['request_id']), { ...request, alma_event_type: 'REFRESH', alma_event_time: refreshTime });
    for (const fee of patron.fees) fees.set(String(fee['id']), { ...fee, fee_id: fee['id'] });
    users.set(patron.primaryId.toLowerCase(), {
      primary_id: patron.primaryId.toLowerCase(),
      refreshed_at: refreshTime,
      loan_ids: new Set(patron.loans.map((loan) => String(loan['loan_id']))),
      request_ids: new Set(patron.requests.map((request) => String(request['request_id']))),
      fee_ids: new Set(patron.fees.map((fee) => String(fee['id']))),
    });
  }
  for (const event of scenario.events) {
    const body = JSON.parse(event.body) as Record<string, Row>;
    const record = body[event.kind === 'loan' ? 'item_loan' : 'user_request'];
    (event.kind === 'loan' ? loans : requests).set(event.itemId, {
      ...record,
      alma_event_id: event.eventId,
      alma_event_type: event.type,
      alma_event_time: event.time,
      ...(event.removal ? { tombstone: true } : {}),
    });
  }
  return { users, loans, requests, fees };
};

const run = (events: number) => {
  const patrons = loadPatrons('9', 12);
  const scenario = new BurstScenario(new SeededRandom(7), patrons, '79');
  const start = Date.parse('2026-12-06T08:00:00.000Z');
  for (let i = 0; i < events; i += 1) scenario.next(start + i * 50);
  return { patrons, scenario, cache: correctCache(scenario, patrons) };
};

describe('the load model', () => {
  it('accepts the cache the events and Alma imply, and checks every record', () => {
    const { patrons, scenario, cache } = run(400);
    const check = checkCache(patrons, scenario.events, new Set(patrons.map((patron) => patron.primaryId)), cache);
    expect(check.lost).toEqual([]);
    expect(check.wrong).toEqual([]);
    expect(check.patronsChecked).toBe(12);
    expect(check.recordsChecked).toBeGreaterThan(new Set(scenario.events.map((event) => event.itemId)).size);
  });

  it('calls an event not applied lost: the record still holds the version before it', () => {
    const { patrons, scenario, cache } = run(400);
    const renewal = [...scenario.events].reverse().find((event) => event.type === 'LOAN_RENEWED')!;
    const earlier = scenario.events.filter((event) => event.itemId === renewal.itemId && event.time < renewal.time).at(-1);
    cache.loans.set(renewal.itemId, {
      ...cache.loans.get(renewal.itemId),
      due_date: '2000-01-01T23:59:00Z',
      alma_event_id: earlier?.eventId ?? 'refresh',
      alma_event_time: earlier?.time ?? '2026-01-01T00:00:00.000Z',
    });
    const check = checkCache(patrons, scenario.events, new Set(), cache);
    expect(check.lost.map((difference) => difference.what)).toEqual(
      expect.arrayContaining([expect.stringContaining(`loan ${renewal.itemId}: version of`)]),
    );
  });

  it('calls a returned loan still live wrong, and a missing record lost', () => {
    const { patrons, scenario, cache } = run(400);
    const returned = scenario.events.find((event) => event.type === 'LOAN_RETURNED')!;
    const row = { ...cache.loans.get(returned.itemId) };
    delete row['tombstone'];
    cache.loans.set(returned.itemId, row);
    const created = [...scenario.events].reverse().find((event) => event.type === 'REQUEST_CREATED')!;
    cache.requests.delete(created.itemId);
    const check = checkCache(patrons, scenario.events, new Set(), cache);
    expect(check.wrong.map((difference) => difference.what)).toContain(`loan ${returned.itemId}: live, its latest event LOAN_RETURNED removed it`);
    expect(check.lost.map((difference) => difference.what)).toEqual(expect.arrayContaining([expect.stringContaining(`request ${created.itemId}`)]));
  });

  it('checks the id sets against what Alma lists: a missing id is lost, an extra one wrong', () => {
    const { patrons, scenario, cache } = run(200);
    const patron = patrons.find((candidate) => candidate.loans.length > 0)!;
    const user = cache.users.get(patron.primaryId.toLowerCase())!;
    const ids = new Set(user['loan_ids'] as Set<string>);
    const dropped = String(patron.loans[0]['loan_id']);
    ids.delete(dropped);
    ids.add('7300000000000004561');
    cache.users.set(patron.primaryId.toLowerCase(), { ...user, loan_ids: ids });
    const check = checkCache(patrons, scenario.events, new Set(), cache);
    expect(check.lost.map((difference) => difference.what)).toContain(`loan ${dropped} listed by Alma, not in loan_ids`);
    expect(check.wrong.map((difference) => difference.what)).toContain('loan 7300000000000004561 in loan_ids, not listed by Alma');
  });

  it('accepts a record holding a newer event that was delivered but never answered 200, and no other event', () => {
    // Prepare: the latest event of a record reached the cache, but its 200 never reached the sender
    const { patrons, scenario, cache } = run(400);
    const latest = [...scenario.events]
      .reverse()
      .find((event) => !event.removal && scenario.events.some((e) => e.itemId === event.itemId && e !== event))!;
    const answered = scenario.events.filter((event) => event !== latest);
    const stranger = scenario.events.find((event) => event.itemId !== latest.itemId)!;

    // Act
    const accepted = checkCache(patrons, answered, new Set(), cache, scenario.events);
    const unanswered = checkCache(patrons, answered, new Set(), cache, answered);
    const table = latest.kind === 'loan' ? cache.loans : cache.requests;
    table.set(latest.itemId, { ...table.get(latest.itemId), alma_event_id: stranger.eventId });
    const foreign = checkCache(patrons, answered, new Set(), cache, scenario.events);

    // Assess
    expect(accepted.wrong).toEqual([]);
    expect(unanswered.wrong.map((difference) => difference.what)).toEqual([
      expect.stringContaining(`${latest.kind} ${latest.itemId}: event ${latest.eventId}`),
    ]);
    expect(foreign.wrong.map((difference) => difference.what)).toEqual([
      expect.stringContaining(`${latest.kind} ${latest.itemId}: event ${stranger.eventId}`),
    ]);
  });

  it('requires every patron that must be cached to be refreshed, and lets a newer refresh version stand', () => {
    const { patrons, scenario, cache } = run(200);
    const missing = patrons[3];
    cache.users.set(missing.primaryId.toLowerCase(), { primary_id: missing.primaryId.toLowerCase() });
    const event = scenario.events.find((candidate) => !candidate.removal)!;
    cache[event.kind === 'loan' ? 'loans' : 'requests'].set(event.itemId, {
      ...cache[event.kind === 'loan' ? 'loans' : 'requests'].get(event.itemId),
      alma_event_type: 'REFRESH',
      alma_event_id: 'refresh:x',
      alma_event_time: '2099-01-01T00:00:00.000Z',
    });
    const check = checkCache(patrons, scenario.events, new Set([missing.primaryId]), cache as CacheSnapshot);
    expect(check.lost).toEqual([{ verdict: 'lost', patron: missing.primaryId, what: 'User row still a placeholder (no refreshed_at)' }]);
    expect(check.wrong).toEqual([]);
  });
});

describe('the burst scenario', () => {
  it('changes the fake Alma before each webhook, and never sends two events of one record within the gap', () => {
    const patrons = loadPatrons('8', 20);
    const scenario = new BurstScenario(new SeededRandom(3), patrons, '78');
    const start = Date.parse('2026-12-06T08:00:00.000Z');
    for (let i = 0; i < 2000; i += 1) scenario.next(start + i * 10);
    const last = new Map<string, number>();
    for (const event of scenario.events) {
      const at = Date.parse(event.time);
      expect(at - (last.get(event.itemId) ?? -Infinity)).toBeGreaterThanOrEqual(MIN_RECORD_GAP_MS);
      last.set(event.itemId, at);
    }
    const returned = scenario.events.filter((event) => event.type === 'LOAN_RETURNED').map((event) => event.itemId);
    const listed = new Set(patrons.flatMap((patron) => patron.loans.map((loan) => String(loan['loan_id']))));
    expect(returned.length).toBeGreaterThan(0);
    expect(returned.filter((id) => listed.has(id))).toEqual([]);
    const body = JSON.parse(scenario.events[0].body) as Record<string, any>;
    expect(body).toEqual(expect.objectContaining({ id: scenario.events[0].eventId, time: scenario.events[0].time }));
    expect(new Set(scenario.events.map((event) => event.eventId)).size).toBe(2000);
  });

  it('sends all eight types, loans most, in about the stated mix', () => {
    const patrons = loadPatrons('7', 300);
    const scenario = new BurstScenario(new SeededRandom(5), patrons, '77');
    const start = Date.parse('2026-12-06T08:00:00.000Z');
    for (let i = 0; i < 6000; i += 1) scenario.next(start + i * 10);
    const counts: Record<string, number> = {};
    for (const event of scenario.events) counts[event.type] = (counts[event.type] ?? 0) + 1;
    expect(Object.keys(counts).sort()).toEqual(Object.keys(EVENT_MIX).sort());
    const loans = scenario.events.filter((event) => event.kind === 'loan').length / scenario.events.length;
    expect(loans).toBeGreaterThan(0.7);
    expect(counts['LOAN_CREATED'] / 6000).toBeGreaterThan(0.2);
  });
});

import { type Deployment, LIST_PRICES, type MeasuredUnitCosts, semesterStartCost, type Workload } from '../../cost-model';
import { measuredFromBench } from '../../cost';

// Round numbers so every expected figure below can be worked out by hand.
const workload: Workload = {
  activePatrons: 1000,
  newPatrons: 100,
  loansPerPatronYear: 10,
  eventsPerLoan: 4,
  requestsPerPatronYear: 0,
  eventsPerRequest: 3,
  peakMonthShare: 0.1,
  peakDayShare: 0.1,
  peakHourShare: 0.1,
  bulkJobEventsPerSecond: 100,
  bulkJobEvents: 6000,
  queriesPerPatronMonth: 10,
  queryMissShare: 0.01,
};
const measured: MeasuredUnitCosts = {
  cachedEventWrites: 2,
  cachedEventWriteUnits: 2,
  unknownEventWriteUnits: 3,
  refreshAlmaCalls: 3,
  refreshWriteUnits: 9,
  queryHitReadUnits: 1,
  cpuMsPerEventOneCore: 1,
  queryHitMsOneCore: 2,
  sequentialRoundTrips: 2,
  roundTripMs: 10,
};
const deployment: Deployment = {
  memoryMb: 1769,
  batchSize: 10,
  maximumConcurrencyPerFunction: 5,
  cacheUpdateFunctions: 4,
  polledQueues: 0,
  emptyReceivesPerQueueMinute: 15,
  alarms: 10,
  metricSeries: 100,
  logBytesPerEvent: 1000,
  logBytesPerQuery: 0,
  storedBytesPerPatron: 1_000_000,
  receiverMsPerWebhook: 0,
  rebuildSeconds: 0,
  auditAlmaCallsPerDay: 100,
  almaCallsPerSecond: 10,
  refreshShare: 0.5,
};

describe('semesterStartCost', () => {
  it('derives the peak figures from the workload and the measured unit costs', () => {
    // Act
    const report = semesterStartCost(workload, measured, deployment, LIST_PRICES);

    // Assess: 1000 patrons x 10 loans x 4 events = 40,000 a year; 10 % in the month, plus the 6,000 of the bulk job.
    expect(report.peakMonthEvents).toBe(10_000);
    expect(report.deskPeakEventsPerSecond).toBeCloseTo((4000 * 0.01) / 3600, 10);
    // One full vCPU at 1,769 MB: 10 events x 1 ms + 2 round trips x 10 ms.
    expect(report.lambdaMsPerBatch).toBeCloseTo(30, 10);
    expect(report.peakConcurrency).toBeCloseTo(10 * 0.03, 10);
    expect(report.maxEventsPerSecond).toBeCloseTo((4 * 5 * 10 * 1000) / 30, 6);
    expect(report.peakWriteUnitsPerSecond).toBe(200);
    // 100 new patrons x 3 calls at 5 calls/s = 60 s.
    expect(report.newPatronRefreshHours).toBeCloseTo(60 / 3600, 10);
    // (100 new + 100 misses x 0.1 of the month on the day) x 3 calls + 100 audit calls.
    expect(report.almaCallsPeakDay).toBeCloseTo((100 + 10) * 3 + 100, 10);
  });

  it('prices each line at the list price and sums them', () => {
    // Act
    const report = semesterStartCost(workload, measured, deployment, LIST_PRICES);
    const byItem = new Map(report.monthly.map((line) => [line.item, line.usd]));

    // Assess: writes = 9,900 cached x 2 + 100 unknown x 3 + (100 new + 100 misses) x 9 = 21,900 WRU.
    expect(byItem.get('DynamoDB writes (on-demand)')).toBeCloseTo((21_900 / 1e6) * 0.625, 12);
    expect(byItem.get('DynamoDB storage')).toBeCloseTo(1 * 0.25, 12);
    expect(byItem.get('CloudWatch custom metrics')).toBeCloseTo(30, 12);
    expect(byItem.get('CloudWatch alarms')).toBeCloseTo(1, 12);
    // 10,000 SNS sends + 2 per batch of 10 + 3 per new patron on the Users queue; no idle polls here.
    expect(byItem.get('SQS requests')).toBeCloseTo(((10_000 * 1.2 + 300) / 1e6) * 0.4, 12);
    expect(report.monthlyTotalUsd).toBeCloseTo(
      [...byItem.values()].reduce((a, b) => a + b, 0),
      12,
    );
  });
});

describe('measuredFromBench', () => {
  const bench = {
    figures: [
      {
        key: 'event-cost',
        rows: [
          { subject: 'loan-updated ← LOAN_CREATED', values: [2, 2, 0, 0] },
          { subject: 'loan-updated (3 event types)', values: [4, 3, 0, 0] },
        ],
      },
      { key: 'refresh', rows: [{ subject: 'patron 5/1/0 (loans/requests/fees)', values: [3, 30, 53, 132, 9] }] },
      { key: 'throughput', rows: [{ subject: 'absolute rates', measured: 'Node CPU 3.15 ms/event vs 1.01 ms/put' }] },
      { key: 'query-latency', rows: [{ subject: 'cache hit', measured: '1.76× (min 1.53, max 1.97); 3.37 ms vs 2.12 ms' }] },
    ],
  };

  it('takes each figure from its named bench row', () => {
    // Act
    const { measured: fromBench } = measuredFromBench(bench);

    // Assess
    expect(fromBench).toMatchObject({ cachedEventWriteUnits: 2, unknownEventWriteUnits: 3, refreshAlmaCalls: 3, refreshWriteUnits: 9 });
    expect(fromBench.cpuMsPerEventOneCore).toBe(3.15);
    expect(fromBench.queryHitMsOneCore).toBe(3.37);
  });

  it("reads the throughput row as the floors' bench states it (the design's CPU first, the floor's after vs)", () => {
    // Prepare
    const figures = bench.figures.map((figure) =>
      figure.key === 'throughput'
        ? { key: 'throughput', rows: [{ subject: 'absolute rates', measured: '412 vs 455 events/s; Node CPU 2.41 vs 2.05 ms/event' }] }
        : figure,
    );

    // Act
    const { measured: fromBench } = measuredFromBench({ figures });

    // Assess
    expect(fromBench.cpuMsPerEventOneCore).toBe(2.41);
  });

  it('names the missing figure instead of guessing it', () => {
    // Act / Assess
    expect(() => measuredFromBench({ figures: bench.figures.filter((figure) => figure.key !== 'refresh') })).toThrow(/"refresh" row/);
  });
});

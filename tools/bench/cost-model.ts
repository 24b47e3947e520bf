// What the stack costs a library, from the figures the bench and the load run measure, a stated workload and list
// prices. Pure arithmetic: `cost.ts` reads the measured figures and prints the page; the spec checks the sums.

/**
 * List prices used by the page: US East (N. Virginia), on-demand, before the free tier. Every figure names its price
 * page; EU regions (where most Alma institutions in Europe deploy) list DynamoDB, CloudWatch and API Gateway about
 * 10–13 % higher and Lambda, SQS and SNS the same.
 */
export const LIST_PRICES = {
  region: 'us-east-1',
  lambdaArmPerGbSecond: 0.0000133334, // https://aws.amazon.com/lambda/pricing/ (Arm, first 7.5 billion GB-s)
  lambdaPerMillionRequests: 0.2, // same page
  dynamoDbPerMillionWriteUnits: 0.625, // https://aws.amazon.com/dynamodb/pricing/on-demand/ (since 2024-11-01)
  dynamoDbPerMillionReadUnits: 0.125, // same page
  dynamoDbPerGbMonth: 0.25, // same page, Standard table class storage
  sqsPerMillionRequests: 0.4, // https://aws.amazon.com/sqs/pricing/ (standard queues, per 64 KB chunk)
  snsPerMillionPublishes: 0.5, // https://aws.amazon.com/sns/pricing/ (deliveries to SQS are not charged)
  httpApiPerMillionRequests: 1.0, // https://aws.amazon.com/api-gateway/pricing/ (HTTP APIs, first 300 million)
  cloudWatchPerMetricMonth: 0.3, // https://aws.amazon.com/cloudwatch/pricing/ (custom metrics, first 10,000, prorated by the hour)
  cloudWatchPerAlarmMonth: 0.1, // same page (standard resolution)
  cloudWatchLogsPerGbIngested: 0.5, // same page
} as const;

export type ListPrices = { readonly [K in keyof typeof LIST_PRICES]: (typeof LIST_PRICES)[K] extends string ? string : number };

/** What a university's circulation looks like; every number is an assumption the page states with its reason. */
export interface Workload {
  readonly activePatrons: number;
  /** Patrons not in the cache when the semester starts (the new intake), each rebuilt once from Alma. */
  readonly newPatrons: number;
  readonly loansPerPatronYear: number;
  /** Webhooks per loan: created, renewals, due-date changes, returned. */
  readonly eventsPerLoan: number;
  readonly requestsPerPatronYear: number;
  /** Webhooks per request: created, placed on shelf, closed or canceled. */
  readonly eventsPerRequest: number;
  /** Share of the year's loans and requests in the semester-start month. */
  readonly peakMonthShare: number;
  /** Share of the peak month in its busiest day, and of that day in its busiest hour. */
  readonly peakDayShare: number;
  readonly peakHourShare: number;
  /** An Alma job (bulk due-date change, auto-renewal) that sends webhooks as fast as Alma can: rate and size. */
  readonly bulkJobEventsPerSecond: number;
  readonly bulkJobEvents: number;
  /** Cache reads (library app, discovery "my account") per active patron in the peak month. */
  readonly queriesPerPatronMonth: number;
  /** Share of queries that miss (a patron not cached yet) and are rebuilt inline from Alma. */
  readonly queryMissShare: number;
}

/** Per-event and per-call figures measured by `npm run bench` and `npm run load` on this machine. */
export interface MeasuredUnitCosts {
  /** DynamoDB requests and write units per webhook for a cached patron, and for an unknown one (claim included). */
  readonly cachedEventWrites: number;
  readonly cachedEventWriteUnits: number;
  readonly unknownEventWriteUnits: number;
  /** A patron rebuilt from Alma: Alma calls and DynamoDB write units (Users row + one per record). */
  readonly refreshAlmaCalls: number;
  readonly refreshWriteUnits: number;
  /** Read units of a cache hit (the two parallel reads: Users row and the asked record(s), eventually consistent). */
  readonly queryHitReadUnits: number;
  /** Handler CPU per event on one full core of this machine (Node, the built bundle), milliseconds. */
  readonly cpuMsPerEventOneCore: number;
  /** Query API handler time of a cache hit on one full core of this machine, milliseconds. */
  readonly queryHitMsOneCore: number;
  /** DynamoDB round trips per event that the handler waits for in sequence, and one round trip in Lambda, ms. */
  readonly sequentialRoundTrips: number;
  readonly roundTripMs: number;
}

/** The deployed shape: memory, batch, concurrency caps and what a stage runs all the time. */
export interface Deployment {
  readonly memoryMb: number;
  readonly batchSize: number;
  readonly maximumConcurrencyPerFunction: number;
  readonly cacheUpdateFunctions: number;
  /** Queues an event source mapping long-polls (cache update + refresh), and its long polls per minute each. */
  readonly polledQueues: number;
  readonly emptyReceivesPerQueueMinute: number;
  readonly alarms: number;
  /** Metric series (name × dimension values) a busy month publishes. */
  readonly metricSeries: number;
  readonly logBytesPerEvent: number;
  readonly logBytesPerQuery: number;
  readonly storedBytesPerPatron: number;
  /** Webhook receiver time per webhook (signature check, one SNS publish) and a rebuild's time waiting on Alma. */
  readonly receiverMsPerWebhook: number;
  readonly rebuildSeconds: number;
  /** Alma calls a day of the scheduled drift audit, and the stage's Alma budget (calls/s) and refresh share of it. */
  readonly auditAlmaCallsPerDay: number;
  readonly almaCallsPerSecond: number;
  readonly refreshShare: number;
}

/** Lambda gives a function one vCPU at 1,769 MB and CPU in proportion below it (Lambda's memory documentation). */
export const MB_PER_VCPU = 1769;

export interface CostLine {
  readonly item: string;
  readonly quantity: string;
  readonly usd: number;
}

export interface CostReport {
  readonly peakMonthEvents: number;
  readonly deskPeakEventsPerSecond: number;
  readonly bulkPeakEventsPerSecond: number;
  readonly lambdaMsPerBatch: number;
  readonly peakConcurrency: number;
  readonly maxEventsPerSecond: number;
  readonly peakWriteUnitsPerSecond: number;
  readonly peakReadUnitsPerSecond: number;
  readonly newPatronRefreshHours: number;
  readonly almaCallsPeakDay: number;
  readonly monthly: readonly CostLine[];
  readonly monthlyTotalUsd: number;
}

const MONTH_SECONDS = 30 * 24 * 3600;

/**
 * The semester-start month of `workload` on `deployment`, from the measured unit costs, at `prices`.
 *
 * @example
 * const report = semesterStartCost(DEFAULT_WORKLOAD, measured, DEFAULT_DEPLOYMENT, LIST_PRICES);
 * console.log(report.monthlyTotalUsd.toFixed(2));
 */
export const semesterStartCost = (workload: Workload, measured: MeasuredUnitCosts, deployment: Deployment, prices: ListPrices): CostReport => {
  const yearEvents =
    workload.activePatrons * (workload.loansPerPatronYear * workload.eventsPerLoan + workload.requestsPerPatronYear * workload.eventsPerRequest);
  const peakMonthEvents = yearEvents * workload.peakMonthShare + workload.bulkJobEvents;
  const deskPeakEventsPerSecond = (yearEvents * workload.peakMonthShare * workload.peakDayShare * workload.peakHourShare) / 3600;
  const bulkPeakEventsPerSecond = workload.bulkJobEventsPerSecond;

  // A full batch: its records run concurrently, so the CPU adds up (at the memory's share of a core) and the waits
  // overlap; one round-trip chain is the part that does not shrink with more CPU.
  const cpuScale = MB_PER_VCPU / deployment.memoryMb;
  const lambdaMsPerBatch = deployment.batchSize * measured.cpuMsPerEventOneCore * cpuScale + measured.sequentialRoundTrips * measured.roundTripMs;
  const peakConcurrency = (bulkPeakEventsPerSecond / deployment.batchSize) * (lambdaMsPerBatch / 1000);
  const maxEventsPerSecond =
    deployment.cacheUpdateFunctions * deployment.maximumConcurrencyPerFunction * deployment.batchSize * (1000 / lambdaMsPerBatch);

  const queries = workload.activePatrons * workload.queriesPerPatronMonth;
  const peakQueriesPerSecond = (queries * workload.peakDayShare * workload.peakHourShare) / 3600;
  const peakWriteUnitsPerSecond = bulkPeakEventsPerSecond * measured.cachedEventWriteUnits;
  const peakReadUnitsPerSecond = peakQueriesPerSecond * measured.queryHitReadUnits;

  const refreshCallsPerSecond = deployment.almaCallsPerSecond * deployment.refreshShare;
  const newPatronRefreshHours = (workload.newPatrons * measured.refreshAlmaCalls) / refreshCallsPerSecond / 3600;
  const missesPeakMonth = queries * workload.queryMissShare;
  const almaCallsPeakDay =
    (workload.newPatrons + missesPeakMonth * workload.peakDayShare) * measured.refreshAlmaCalls + deployment.auditAlmaCallsPerDay;

  const unknownEvents = workload.newPatrons; // the first event of each new patron; its later ones find it cached
  const writeUnits =
    (peakMonthEvents - unknownEvents) * measured.cachedEventWriteUnits +
    unknownEvents * measured.unknownEventWriteUnits +
    (workload.newPatrons + missesPeakMonth) * measured.refreshWriteUnits;
  const readUnits = queries * measured.queryHitReadUnits;
  const invocations = peakMonthEvents / deployment.batchSize + workload.newPatrons + queries + peakMonthEvents; // batches, refreshes, queries, receiver
  const gbSeconds =
    (deployment.memoryMb / 1024) *
    ((peakMonthEvents / deployment.batchSize) * (lambdaMsPerBatch / 1000) + // cache update
      (peakMonthEvents * deployment.receiverMsPerWebhook) / 1000 +
      (queries * measured.queryHitMsOneCore * cpuScale) / 1000 +
      (workload.newPatrons + missesPeakMonth) * deployment.rebuildSeconds);
  const sqsRequests =
    peakMonthEvents * (1 + 2 / deployment.batchSize) + // SNS's send, and a receive and a delete per batch
    deployment.polledQueues * deployment.emptyReceivesPerQueueMinute * (MONTH_SECONDS / 60) + // idle long polls
    workload.newPatrons * 3; // Users queue: send, receive, delete
  const logGb = (peakMonthEvents * deployment.logBytesPerEvent + queries * deployment.logBytesPerQuery) / 1e9;
  const storageGb = (workload.activePatrons * deployment.storedBytesPerPatron) / 1e9;

  const line = (item: string, quantity: string, usd: number): CostLine => ({ item, quantity, usd });
  const millions = (n: number) => `${(n / 1e6).toFixed(2)} M`;
  const monthly = [
    line('Lambda requests', millions(invocations), (invocations / 1e6) * prices.lambdaPerMillionRequests),
    line('Lambda compute (Arm)', `${Math.round(gbSeconds).toLocaleString('en')} GB-s`, gbSeconds * prices.lambdaArmPerGbSecond),
    line('DynamoDB writes (on-demand)', `${millions(writeUnits)} WRU`, (writeUnits / 1e6) * prices.dynamoDbPerMillionWriteUnits),
    line('DynamoDB reads (on-demand)', `${millions(readUnits)} RRU`, (readUnits / 1e6) * prices.dynamoDbPerMillionReadUnits),
    line('DynamoDB storage', `${storageGb.toFixed(2)} GB`, storageGb * prices.dynamoDbPerGbMonth),
    line('SNS publishes', millions(peakMonthEvents), (peakMonthEvents / 1e6) * prices.snsPerMillionPublishes),
    line('SQS requests', millions(sqsRequests), (sqsRequests / 1e6) * prices.sqsPerMillionRequests),
    line('API Gateway HTTP API', millions(queries + peakMonthEvents), ((queries + peakMonthEvents) / 1e6) * prices.httpApiPerMillionRequests),
    line('CloudWatch custom metrics', `${deployment.metricSeries} series`, deployment.metricSeries * prices.cloudWatchPerMetricMonth),
    line('CloudWatch alarms', `${deployment.alarms} alarms`, deployment.alarms * prices.cloudWatchPerAlarmMonth),
    line('CloudWatch Logs ingestion', `${logGb.toFixed(2)} GB`, logGb * prices.cloudWatchLogsPerGbIngested),
  ];
  const monthlyTotalUsd = monthly.reduce((sum, entry) => sum + entry.usd, 0);
  return {
    peakMonthEvents,
    deskPeakEventsPerSecond,
    bulkPeakEventsPerSecond,
    lambdaMsPerBatch,
    peakConcurrency,
    maxEventsPerSecond,
    peakWriteUnitsPerSecond,
    peakReadUnitsPerSecond,
    newPatronRefreshHours,
    almaCallsPeakDay,
    monthly,
    monthlyTotalUsd,
  };
};

import { readFileSync, existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BackfillPatron, readExpiryPolicy, systemClock } from '@alma-cache/cache-domain';
import { AlmaHttpApi } from '@alma-cache/alma-api';
import {
  BackfillProgressError,
  type CacheTableNames,
  cachedSsmSecret,
  createDocumentClient,
  createSqsClient,
  createSsmClient,
  DynamoDbAlmaBudgetGauge,
  DynamoDbAlmaCallBudget,
  DynamoDbBackfillProgress,
  DynamoDbCacheStore,
  SqsUserRefreshQueue,
} from '@alma-cache/aws-adapters';
import { SESSION_FILE, useLocalStack } from '../redrive/endpoints';
import { almaUsersList, type BackfillProgressReport, type BackfillResult, fileList, type PatronList, runBackfill } from './backfill';
import { BackfillInputError, parsePatronIds } from './ids';
import { type BackfillOptions, parseCli } from './options';
import { describePace, describePlan, formatDuration, paceOf } from './plan';
import { progressPrinter } from './progress-line';

/** The stage's tables and queue a backfill uses (by the stacks' naming convention, unless a test gives its own). */
export interface StageResources {
  readonly tables: Required<CacheTableNames>;
  /** The Alma guard table: the budget's counters, and the run's progress (`backfill/<run>`). */
  readonly guardTable: string;
  readonly usersQueueUrl: string;
  /** Alma's API host for `--from-alma`, when the stage knows it (the local stack's fake Alma). */
  readonly almaUrl?: string;
}

/** Where the CLI writes, and what tests may replace. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Stops the run after the patron in hand; the position is saved (Ctrl-C in main.ts). */
  readonly signal?: AbortSignal;
  readonly env?: NodeJS.ProcessEnv;
  /** Tests: the stage's resources, instead of `alma-cache-<stage>-…`. */
  readonly resources?: StageResources;
  /** Tests: each progress report as it happens. */
  readonly onProgress?: (report: BackfillProgressReport) => void;
  /** Tests: the lease holder's name. Default `<host>:<pid>`. */
  readonly owner?: string;
}

const DEFAULT_ALMA_URL = 'https://api-eu.hosted.exlibrisgroup.com';

/** The stacks' names: `alma-cache-<stage>-users` (table and queue), `-user-refresh-claims`, `-alma-guard`, … */
const conventionalResources = async (sqs: SQSClient, stage: string, almaUrl?: string): Promise<StageResources> => {
  const prefix = `alma-cache-${stage}`;
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: `${prefix}-users` }));
  if (!QueueUrl) throw new Error(`GetQueueUrl returned no URL for ${prefix}-users`);
  return {
    tables: {
      users: `${prefix}-users`,
      loans: `${prefix}-loans`,
      requests: `${prefix}-requests`,
      fees: `${prefix}-fees`,
      refreshClaims: `${prefix}-user-refresh-claims`,
    },
    guardTable: `${prefix}-alma-guard`,
    usersQueueUrl: QueueUrl,
    ...(almaUrl ? { almaUrl } : {}),
  };
};

/** The local stack's fake Alma, as `npm start` records it. */
const localAlmaUrl = (): string | undefined => {
  if (!existsSync(SESSION_FILE)) return undefined;
  return (JSON.parse(readFileSync(SESSION_FILE, 'utf8')) as { almaUrl?: string }).almaUrl;
};

const queueBacklog = (sqs: SQSClient, queueUrl: string) => async (): Promise<number> => {
  const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
  return Number(Attributes['ApproximateNumberOfMessages'] ?? 0);
};

interface Setup {
  readonly options: BackfillOptions;
  readonly run: string;
  readonly source: string;
  readonly from: string;
  readonly list: PatronList;
  readonly duplicates?: number;
  readonly resources: StageResources;
  readonly client: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  readonly destroy: () => void;
}

const setUp = async (options: BackfillOptions, io: CliIo, env: NodeJS.ProcessEnv): Promise<Setup> => {
  // The list first: a malformed file is refused before any AWS call.
  const ids = options.source.kind === 'file' ? parsePatronIds(readFileSync(options.source.path, 'utf8')) : undefined;
  if (options.local) useLocalStack(env);
  const region = options.region ?? env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'eu-west-1';
  const client = createDocumentClient({ region });
  const sqs = createSqsClient({ region });
  const ssm = createSsmClient({ region });
  const destroy = () => {
    client.destroy();
    sqs.destroy();
    ssm.destroy();
  };
  try {
    const resources = io.resources ?? (await conventionalResources(sqs, options.stage, options.local ? localAlmaUrl() : undefined));
    if (ids !== undefined) {
      const path = options.source.kind === 'file' ? options.source.path : '';
      return {
        options,
        run: options.run ?? `file-${ids.source.slice('file:'.length, 'file:'.length + 12)}`,
        source: ids.source,
        from: path,
        list: fileList(ids.ids),
        duplicates: ids.duplicates,
        resources,
        client,
        sqs,
        destroy,
      };
    }
    const alma = new AlmaHttpApi({
      baseUrl: options.almaUrl ?? resources.almaUrl ?? env['ALMA_API_BASE_URL'] ?? DEFAULT_ALMA_URL,
      apiKey: cachedSsmSecret(ssm, options.almaKeyName),
      // The list pages are Alma calls like any other, background ones: taken from the refresh share of the budget.
      budget: new DynamoDbAlmaCallBudget(client, resources.guardTable, { callsPerSecond: options.budget, share: 'refresh' }),
      maxConcurrentRequests: 1,
    });
    return {
      options,
      run: options.run ?? 'alma-users',
      source: 'alma-users',
      from: "Alma's users list",
      list: almaUsersList((page) => alma.listUsers(page)),
      resources,
      client,
      sqs,
      destroy,
    };
  } catch (error) {
    destroy();
    throw error;
  }
};

/** The dry run: where the run stands, and what the rest of it would cost. */
const dryRun = async (setup: Setup, io: CliIo): Promise<number> => {
  const { options, list } = setup;
  const progress = new DynamoDbBackfillProgress(setup.client, setup.resources.guardTable);
  const state = await progress.read(setup.run);
  const sameList = state !== undefined && state.source === setup.source && !options.restart;
  const position = sameList ? state.position : 0;
  let total = list.total();
  if (options.source.kind === 'alma') {
    // One Alma call, for the list's length.
    for await (const entry of list.entries(0)) {
      void entry;
      break;
    }
    total = list.total();
  }
  const pace = paceOf(options.budget, options.share, options.callsPerPatron);
  const listPages = options.source.kind === 'alma' ? Math.ceil(Math.max(0, total - position) / 100) : 0;
  const lines = describePlan({
    run: setup.run,
    stage: options.stage,
    from: setup.from,
    total,
    position,
    finished: sameList && state.finishedAt !== undefined,
    listPages,
    duplicates: setup.duplicates,
    pace,
    dailyLimit: options.dailyLimit,
  });
  if (state !== undefined && !sameList) {
    lines.push(
      options.restart
        ? `  --restart: the run's saved position (${state.position}) would be dropped`
        : `  run "${setup.run}" exists on another list (${state.source}): --yes would refuse; use --restart or another --run`,
    );
  }
  io.stdout.write(`${lines.join('\n')}\ndry run: nothing was sent. Add --yes to run it.\n`);
  return 0;
};

const summary = (result: BackfillResult, patronsPerSecond: number): string => {
  const outcomes = Object.entries(result.counts)
    .map(([outcome, count]) => `${outcome} ${count}`)
    .join(', ');
  const seconds = (result.elapsedMs / 1000).toFixed(1);
  const session =
    `this session: ${result.position - result.startPosition} patrons in ${seconds} s, ${result.queuedNow} queued, ` +
    `~${result.calls} Alma calls, waited ${(result.yieldedMs / 1000).toFixed(1)} s for the budget or the queue`;
  if (result.end === 'already-finished') return `run "${result.run}" had already reached the end of its list (${outcomes}); --restart walks it again`;
  if (result.end === 'finished') return `finished ${result.position}/${result.total} (all sessions: ${outcomes}); ${session}`;
  const left = Math.max(0, result.total - result.position);
  return (
    `stopped at ${result.position}/${result.total} (all sessions: ${outcomes}); ${session}.\n` +
    `Run the same command again to resume at ${result.position} (${left} to go, about ${formatDuration(left / patronsPerSecond)} at the pace).`
  );
};

const execute = async (setup: Setup, io: CliIo, env: NodeJS.ProcessEnv): Promise<number> => {
  const { options, resources } = setup;
  const pace = paceOf(options.budget, options.share, options.callsPerPatron);
  // The claim's window is the stage's USER_REFRESH_WINDOW_SECONDS when set here too, else the stacks' default.
  const expiry = readExpiryPolicy(env);
  if (expiry.problems.length > 0) throw new BackfillInputError(`the expiry settings in this environment are wrong: ${expiry.problems.join('; ')}`);
  const store = new DynamoDbCacheStore(setup.client, resources.tables);
  const backfill = new BackfillPatron(
    {
      store,
      refreshQueue: new SqsUserRefreshQueue(setup.sqs, resources.usersQueueUrl),
      clock: systemClock,
      expiry: expiry.policy,
    },
    setup.run,
  );
  // A few seconds of work, at least 2: the queue then never holds a backlog that live refreshes would wait behind.
  const maxBacklog = options.maxBacklog ?? Math.max(2, Math.ceil(pace.patronsPerSecond * 3));
  const printer = progressPrinter(io.stderr);
  const gauge = new DynamoDbAlmaBudgetGauge(setup.client, resources.guardTable, { callsPerSecond: options.budget, share: 'refresh' });
  io.stderr.write(`backfill "${setup.run}" on ${options.stage} from ${setup.from}: ${describePace(pace)}; Ctrl-C stops and keeps the position\n`);
  const result = await runBackfill(
    {
      backfillPatron: (id) => backfill.execute(id),
      progress: new DynamoDbBackfillProgress(setup.client, resources.guardTable),
      list: setup.list,
      queueBacklog: queueBacklog(setup.sqs, resources.usersQueueUrl),
      // Busy while every slot of the refresh share was granted in the last second: webhooks' and admins' rebuilds
      // (and the drift audit) are using what the backfill leaves, so it sends nothing more until a slot frees.
      refreshShareBusy: async () => (await gauge.load()).freeInMs,
    },
    {
      run: setup.run,
      owner: io.owner ?? `${hostname()}:${process.pid}`,
      source: setup.source,
      restart: options.restart,
      patronsPerSecond: pace.patronsPerSecond,
      callsPerPatron: options.callsPerPatron,
      maxBacklog,
      signal: io.signal,
      onProgress: (report) => {
        printer.update(report);
        io.onProgress?.(report);
      },
    },
  );
  printer.done();
  io.stdout.write(`${summary(result, pace.patronsPerSecond)}\n`);
  return result.end === 'interrupted' ? 2 : 0;
};

/**
 * Runs one `backfill` command line and resolves with the exit code: 0 done (or the dry run printed), 2 stopped before
 * the end (run it again to resume), 1 a usage, input or setup error (nothing was sent).
 */
export const runBackfillCli = async (argv: string[], io: CliIo): Promise<number> => {
  const env = io.env ?? process.env;
  let setup: Setup;
  try {
    setup = await setUp(parseCli(argv, env), io, env);
  } catch (error) {
    io.stderr.write(`${error instanceof BackfillInputError ? error.message : `${(error as Error).name}: ${(error as Error).message}`}\n`);
    return 1;
  }
  try {
    return setup.options.dryRun ? await dryRun(setup, io) : await execute(setup, io, env);
  } catch (error) {
    io.stderr.write(
      `${error instanceof BackfillProgressError || error instanceof BackfillInputError ? error.message : `${(error as Error).name}: ${(error as Error).message}`}\n`,
    );
    return 1;
  } finally {
    setup.destroy();
  }
};

import { parseArgs } from 'node:util';
import { STAGES } from '../system/stacks';
import { BackfillInputError } from './ids';

export const USAGE = `usage: npm run backfill -- (--file <ids.txt> | --from-alma) [options]

  Fills a stage's cache from Alma: each patron not yet complete in the cache is put on the Users queue (through the
  same refresh claim as the webhooks), and the bulk refresh rebuilds them. A dry run unless --yes.

  --file <path>      primary ids, one per line (an Alma Analytics export or a set); every line is checked first
  --from-alma        walk Alma's own users list instead (GET /almaws/v1/users, 100 per call)
  --stage            stg (default) or prod (against an emulator, any lower-case name)
  --run <name>       names the run, whose progress is kept on the stage's Alma guard table (backfill/<name>);
                     default file-<digest of the ids> or alma-users. Run the same command again to resume
  --restart          walk the run's list again from the top (needed to reuse a run name on another list)
  --share <f>        the part of the bulk refresh's share of the budget the backfill takes: 0.5 (default), 1/2, 50%
  --budget <n>       the stage's ALMA_CALLS_PER_SECOND (default: ALMA_CALLS_PER_SECOND_<STG|PROD>, else 10)
  --calls-per-patron <n>  Alma calls one rebuild costs (default 3: loans, requests, fees; more past 100 of a kind)
  --daily-limit <n>  the institution's daily Alma API limit: the dry run prints the share of it the backfill uses
  --max-backlog <n>  wait while the Users queue holds more messages than this (default: 3 s of work, at least 2)
  --yes              run (with a progress line; Ctrl-C stops cleanly and keeps the position)
  --dry-run          print the plan only, even with --yes
  --local            the local stack (npm start): tmp/local-stack/session.json
  --region           AWS region (default: the SDK's, else eu-west-1)
  --alma-url <url>   Alma's API host for --from-alma (default ALMA_API_BASE_URL, else https://api-eu.hosted.exlibrisgroup.com)
  --alma-key-name    the SSM parameter holding the Alma API key (default /alma-cache/<stage>/alma-api-key)`;

export interface BackfillOptions {
  readonly stage: string;
  readonly source: { readonly kind: 'file'; readonly path: string } | { readonly kind: 'alma' };
  /** Given with --run; else derived from the list. */
  readonly run?: string;
  readonly restart: boolean;
  readonly share: number;
  readonly budget: number;
  readonly callsPerPatron: number;
  readonly dailyLimit?: number;
  readonly maxBacklog?: number;
  /** True unless --yes was given without --dry-run. */
  readonly dryRun: boolean;
  readonly local: boolean;
  readonly region?: string;
  readonly almaUrl?: string;
  readonly almaKeyName: string;
}

const wholeNumber = (value: string | undefined, flag: string, min: number): number | undefined => {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < min) {
    throw new BackfillInputError(`${flag} takes a whole number of at least ${min}, not "${value}"`);
  }
  return number;
};

/**
 * A share as an operator writes it: `0.5`, `1/2` or `50%`; above 0, at most 1.
 *
 * @example
 * parseShare('1/3'); // 0.333…
 * @throws BackfillInputError otherwise
 */
export const parseShare = (value: string): number => {
  const fraction = /^(\d+)\/(\d+)$/.exec(value);
  const percentage = /^(\d+(?:\.\d+)?)%$/.exec(value);
  const share = fraction
    ? Number(fraction[1]) / Number(fraction[2])
    : percentage
      ? Number(percentage[1]) / 100
      : /^\d*\.?\d+$/.test(value)
        ? Number(value)
        : Number.NaN;
  if (!(share > 0 && share <= 1)) throw new BackfillInputError(`--share takes a part of 1 above 0 (0.5, 1/2, 50%), not "${value}"`);
  return share;
};

/**
 * Reads the command line. Throws with the usage on anything it does not know, so that a typo never starts a run with
 * a default the operator did not mean. Against AWS the stage is one of the system's; against an emulator (`--local`
 * or `AWS_ENDPOINT_URL`) any lower-case name, as the tests give each case its own.
 *
 * @example
 * parseCli(['--file', 'ids.txt', '--stage', 'prod', '--daily-limit', '1000000']); // a dry run on prod
 */
export const parseCli = (argv: string[], env: NodeJS.ProcessEnv = process.env): BackfillOptions => {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      strict: true,
      options: {
        file: { type: 'string' },
        'from-alma': { type: 'boolean', default: false },
        stage: { type: 'string', default: 'stg' },
        run: { type: 'string' },
        restart: { type: 'boolean', default: false },
        share: { type: 'string', default: '0.5' },
        budget: { type: 'string' },
        'calls-per-patron': { type: 'string' },
        'daily-limit': { type: 'string' },
        'max-backlog': { type: 'string' },
        yes: { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        local: { type: 'boolean', default: false },
        region: { type: 'string' },
        'alma-url': { type: 'string' },
        'alma-key-name': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    throw new BackfillInputError(`${(error as Error).message}\n\n${USAGE}`);
  }
  if (values.help) throw new BackfillInputError(USAGE);
  if ((values.file === undefined) === !values['from-alma']) throw new BackfillInputError(`give either --file <ids.txt> or --from-alma\n\n${USAGE}`);
  if (!/^[a-z0-9]+$/.test(values.stage)) throw new BackfillInputError(`--stage "${values.stage}" is not a stage name`);
  const againstEmulator = values.local || Boolean(env['AWS_ENDPOINT_URL']);
  if (!againstEmulator && !(STAGES as readonly string[]).includes(values.stage)) {
    throw new BackfillInputError(`--stage "${values.stage}" is not a stage: the stages are ${STAGES.join(' and ')}`);
  }
  if (values.run !== undefined && !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(values.run)) {
    throw new BackfillInputError('--run takes 1 to 64 of a-z, 0-9, ".", "_", "-", starting with a letter or digit');
  }
  const budgetVariable = `ALMA_CALLS_PER_SECOND_${values.stage.toUpperCase()}`;
  const budget = wholeNumber(values.budget ?? env[budgetVariable], values.budget === undefined ? budgetVariable : '--budget', 2) ?? 10;
  return {
    stage: values.stage,
    source: values.file !== undefined ? { kind: 'file', path: values.file } : { kind: 'alma' },
    run: values.run,
    restart: values.restart,
    share: parseShare(values.share),
    budget,
    callsPerPatron: wholeNumber(values['calls-per-patron'], '--calls-per-patron', 1) ?? 3,
    dailyLimit: wholeNumber(values['daily-limit'], '--daily-limit', 1),
    maxBacklog: wholeNumber(values['max-backlog'], '--max-backlog', 1),
    dryRun: values['dry-run'] || !values.yes,
    local: values.local,
    region: values.region,
    almaUrl: values['alma-url'],
    almaKeyName: values['alma-key-name'] ?? `/alma-cache/${values.stage}/alma-api-key`,
  };
};

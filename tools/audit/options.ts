import { parseArgs } from 'node:util';
import { STAGES } from '../system/stacks';

export const USAGE = `usage: npm run audit -- --stage stg|prod (--patron <id> [--patron <id> …] | --sample N) [--repair] [--local]

  Holds cached patrons to Alma, record by record and field by field, as the scheduled drift audit does, and prints
  a table of the differences. Nothing is written unless --repair: then drifted patrons are rewritten from what Alma
  listed, by the refresh's write rule. Each patron costs 3 Alma calls (more for lists over 100 records), taken from
  the stage's budget like every other caller.

  --stage    stg or prod (against the local stack or an emulator, any lower-case name)
  --patron   a patron's primary id; may repeat
  --sample   N cached, complete patrons from a random start in the Users table (the scheduled run's sample)
  --repair   write the fix; without it the run only reads
  --local    the local stack (npm start): AWS_ENDPOINT_URL*, else tmp/local-stack/session.json's awsEnv; the audit
             function's settings from the template npm start packaged (tmp/local-stack/refresh-lambdas)
  --region   AWS region (default: the SDK's, else eu-west-1)
  --json     the run's totals and differences as JSON instead of the table

  Exit status: 0 no drift (or all of it repaired), 3 drift found and not repaired, 2 usage, 1 failure.`;

/** What `npm run audit` was asked to do. */
export interface AuditCliOptions {
  readonly stage: string;
  readonly target: { readonly sample: number } | { readonly patrons: readonly string[] };
  readonly repair: boolean;
  readonly local: boolean;
  readonly json: boolean;
  readonly region?: string;
}

/** The command line is wrong: the message says how, the usage follows it. */
export class AuditUsageError extends Error {
  public readonly code = 'AUDIT_USAGE';

  public constructor(message: string) {
    super(message);
    this.name = 'AuditUsageError';
  }
}

/** The most patrons one command audits: as the scheduled function allows (15 minutes at the refresh share). */
const MAX_SAMPLE = 2_000;

/**
 * Reads the command line; `undefined` for `--help`. Against AWS only the system's stages; against an emulator any
 * lower-case name, as the local stack and tests use their own.
 *
 * @example
 * parseAuditCli(['--stage', 'stg', '--patron', 'PAT0042X']); // { stage: 'stg', target: { patrons: ['PAT0042X'] }, repair: false, … }
 * @throws AuditUsageError on anything it does not know, so a typo never repairs
 */
export const parseAuditCli = (argv: readonly string[]): AuditCliOptions | undefined => {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (error) {
    throw new AuditUsageError((error as Error).message);
  }
  if (values.help) return undefined;
  const local = values.local ?? false;
  const stage = values.stage;
  if (stage === undefined) throw new AuditUsageError('--stage is required (stg or prod)');
  if (local ? !/^[a-z][a-z0-9-]*$/.test(stage) : !(STAGES as readonly string[]).includes(stage)) {
    throw new AuditUsageError(`--stage ${JSON.stringify(stage)}: ${local ? 'a lower-case name' : `one of ${STAGES.join(', ')}`}`);
  }
  const patrons = values.patron ?? [];
  if (patrons.length > 0 && values.sample !== undefined) throw new AuditUsageError('--patron and --sample cannot be combined');
  if (patrons.length === 0 && values.sample === undefined)
    throw new AuditUsageError('name the patrons (--patron <id>) or a sample size (--sample N)');
  let target: AuditCliOptions['target'];
  if (values.sample !== undefined) {
    const sample = Number(values.sample);
    if (!Number.isInteger(sample) || sample < 1 || sample > MAX_SAMPLE)
      throw new AuditUsageError(`--sample takes a whole number from 1 to ${MAX_SAMPLE}, not "${values.sample}"`);
    target = { sample };
  } else {
    target = { patrons };
  }
  return {
    stage,
    target,
    repair: values.repair ?? false,
    local,
    json: values.json ?? false,
    ...(values.region !== undefined ? { region: values.region } : {}),
  };
};

const parse = (argv: readonly string[]) =>
  parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      stage: { type: 'string' },
      patron: { type: 'string', multiple: true },
      sample: { type: 'string' },
      repair: { type: 'boolean' },
      local: { type: 'boolean' },
      json: { type: 'boolean' },
      region: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });

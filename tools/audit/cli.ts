import { join, resolve } from 'node:path';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { readPackagedTemplate } from '../local/template';
import { useLocalStack } from '../redrive/endpoints';
import { AuditUsageError, type AuditCliOptions, parseAuditCli, USAGE } from './options';
import { type AuditRunResult, driftTable, summaryLines } from './report';

const WORKSPACE = resolve(__dirname, '..', '..');
const APP = 'refresh-lambdas';
const SERVICE = 'alma-cache-refresh';
/** The scheduled function whose settings (tables, Alma host, key and pepper names, budget, grace) the command takes. */
export const AUDIT_FUNCTION = 'audit-cache';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- untyped CloudFormation

/** The app's audit runner, as its composition root builds it (loaded at run time, as tools/local loads app code). */
export interface AuditRunnerLike {
  run(target: AuditCliOptions['target'], options: { readonly repair: boolean }): Promise<AuditRunResult>;
}

export interface AuditCliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env?: NodeJS.ProcessEnv;
  /** The audit function's environment; by default the deployed function's (AWS) or the packaged one's (--local). */
  readonly functionEnvironment?: (options: AuditCliOptions) => Promise<Record<string, string>>;
}

/**
 * The audit function's environment as the local stack packaged it (tmp/local-stack/refresh-lambdas): its variables,
 * with a `Ref` to one of the template's tables read as that table's name (what the emulator provisioned).
 */
export const packagedFunctionEnvironment = (stage: string, workspace = WORKSPACE): Record<string, string> => {
  const template = readPackagedTemplate(join(workspace, 'apps', APP), join(workspace, 'tmp', 'local-stack', APP));
  const resources = template['Resources'] as Record<string, Json>;
  const name = `${SERVICE}-${stage}-${AUDIT_FUNCTION}`;
  const fn = Object.values(resources).find(
    (resource) => resource['Type'] === 'AWS::Lambda::Function' && resource['Properties']['FunctionName'] === name,
  );
  if (!fn) throw new Error(`no function ${name} in the local stack's packaged template (tmp/local-stack/${APP}): start the stack with \`npm start\``);
  const variables = (fn['Properties']['Environment']?.['Variables'] ?? {}) as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(variables).map(([key, value]) => {
      if (typeof value === 'string') return [key, value];
      const ref = (value as Json)?.['Ref'];
      const table = typeof ref === 'string' ? resources[ref] : undefined;
      if (table?.['Type'] === 'AWS::DynamoDB::Table') return [key, String(table['Properties']['TableName'])];
      throw new Error(`${name}: cannot resolve ${key} = ${JSON.stringify(value)} locally`);
    }),
  );
};

/** The deployed audit function's environment (`lambda:GetFunctionConfiguration` on it). */
const deployedFunctionEnvironment = async (options: AuditCliOptions): Promise<Record<string, string>> => {
  const lambda = new LambdaClient(options.region ? { region: options.region } : {});
  try {
    const name = `${SERVICE}-${options.stage}-${AUDIT_FUNCTION}`;
    const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
    const variables = configuration.Environment?.Variables;
    if (!variables) throw new Error(`${name} has no environment: is the bulk refresh stack of ${options.stage} deployed with the drift audit?`);
    return variables;
  } finally {
    lambda.destroy();
  }
};

/** Builds the app's audit runner from the function's environment, in this process. */
const loadRunner = (environment: Record<string, string>): AuditRunnerLike => {
  const root = require(join(WORKSPACE, 'apps', APP, 'src', 'composition-root.ts')) as {
    buildAuditContainer: (env: Record<string, string>) => { get<T>(token: symbol): T };
    TOKENS: { AuditRunner: symbol };
  };
  return root.buildAuditContainer(environment).get<AuditRunnerLike>(root.TOKENS.AuditRunner);
};

/**
 * `npm run audit -- …`: runs the drift audit's comparison on the patrons named or a sample, prints a table of the
 * differences and the totals, and writes the fix only with `--repair`. Exit status: 0 no drift left, 3 drift found
 * and not repaired, 2 usage, 1 failure.
 *
 * @example
 * process.exitCode = await runAuditCli(['--stage', 'stg', '--patron', 'PAT0042X', '--local'], { stdout, stderr });
 */
export const runAuditCli = async (argv: readonly string[], io: AuditCliIo): Promise<number> => {
  let options: AuditCliOptions | undefined;
  try {
    options = parseAuditCli(argv);
  } catch (error) {
    if (!(error instanceof AuditUsageError)) throw error;
    io.stderr.write(`${error.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (options === undefined) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const env = io.env ?? process.env;
  if (options.local) useLocalStack(env);
  if (options.region) env['AWS_REGION'] = options.region;
  const environment = await (
    io.functionEnvironment ?? (async (given) => (given.local ? packagedFunctionEnvironment(given.stage) : deployedFunctionEnvironment(given)))
  )(options);
  const run = await loadRunner(environment).run(options.target, { repair: options.repair });
  if (options.json) {
    io.stdout.write(`${JSON.stringify({ stage: options.stage, repair: options.repair, ...run }, null, 2)}\n`);
  } else {
    const table = driftTable(run.drifted);
    io.stdout.write(`${[...summaryLines(run, options.stage, options.repair), '', ...(table.length > 0 ? table : ['no differences'])].join('\n')}\n`);
  }
  return run.totals.drifted > run.totals.repaired ? 3 : 0;
};

import { parseArgs } from 'node:util';
import { STAGES, type Stage } from './stacks';

export interface StageOptions {
  stage: Stage;
  region: string;
}

/**
 * `--stage stg|prod` (default stg, as tools/scripts/sls.mjs: an empty value, which Nx passes for a missing
 * `{args.stage}`, counts as not given) and `--region` (else AWS_REGION, AWS_DEFAULT_REGION, eu-west-1).
 *
 * @example
 * parseStageOptions(['--stage', 'prod'], {}); // { stage: 'prod', region: 'eu-west-1' }
 */
export const parseStageOptions = (argv: readonly string[], env: NodeJS.ProcessEnv): StageOptions => {
  const { values } = parseArgs({ args: [...argv], options: { stage: { type: 'string' }, region: { type: 'string' } }, allowPositionals: false });
  const stage = values.stage?.trim() || 'stg';
  if (!(STAGES as readonly string[]).includes(stage)) throw new Error(`stage "${stage}" is not allowed: the only stages are ${STAGES.join(' and ')}`);
  const region = values.region?.trim() || env['AWS_REGION']?.trim() || env['AWS_DEFAULT_REGION']?.trim() || 'eu-west-1';
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw new Error(`"${region}" does not look like an AWS region (e.g. eu-west-1)`);
  return { stage: stage as Stage, region };
};

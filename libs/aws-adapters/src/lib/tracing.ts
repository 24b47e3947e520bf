import type { Tracer } from '@aws-lambda-powertools/tracer';

/** Anything `Tracer.captureAWSv3Client` accepts: an AWS SDK v3 client. */
type AwsV3Client = Parameters<Tracer['captureAWSv3Client']>[0];

/**
 * Whether this process traces: only when the stack turned X-Ray active tracing on for the stage, which sets
 * `POWERTOOLS_TRACE_ENABLED=true` beside it (custom.tracing in each serverless.yml). Opt-in rather than
 * Powertools' own default (on unless "false"), so tests, the local stack and the bench never load the X-Ray SDK.
 *
 * @example
 * isTracingEnabled({ POWERTOOLS_TRACE_ENABLED: 'true' }); // true
 * isTracingEnabled({}); // false
 */
export const isTracingEnabled = (env: NodeJS.ProcessEnv = process.env): boolean => env['POWERTOOLS_TRACE_ENABLED'] === 'true';

let tracer: Tracer | undefined;

/**
 * The process's one Powertools Tracer when tracing is on, else `undefined`. Created on first use: creating it
 * also instruments `fetch` (Powertools subscribes to undici's diagnostics channel), so every Alma HTTP call
 * becomes a subsegment named after the Alma host without the Alma client knowing.
 *
 * @example
 * activeTracer()?.putAnnotation('patron', userId);
 */
export const activeTracer = (env: NodeJS.ProcessEnv = process.env): Tracer | undefined => {
  if (!isTracingEnabled(env)) return undefined;
  // Loaded only here, on purpose: the tracer's import evaluates the X-Ray SDK and cls-hooked (async hooks on
  // every promise), a cold-start and runtime cost a stage with tracing off must not pay.
  tracer ??= new (require('@aws-lambda-powertools/tracer') as typeof import('@aws-lambda-powertools/tracer')).Tracer();
  return tracer;
};

/**
 * The client itself, with an X-Ray subsegment per AWS call when tracing is on; untouched (and nothing loaded)
 * when it is off. The shared client factories pass every client through it.
 *
 * @example
 * const sns = traced(new SNSClient({}));
 */
export const traced = <T extends AwsV3Client>(client: T, env: NodeJS.ProcessEnv = process.env): T => {
  const current = activeTracer(env);
  return current === undefined ? client : current.captureAWSv3Client(client);
};

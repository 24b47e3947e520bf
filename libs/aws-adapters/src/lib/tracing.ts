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
 * The process's one Powertools Tracer when tracing is on, else `undefined`. Created on first use, without
 * Powertools' automatic capture of HTTP calls (`captureHTTPsRequests: false`): it records each `fetch` with its URL
 * path, and an Alma path names the patron and the record (`/almaws/v1/users/<patron>/loans`). Alma calls are traced
 * by {@link tracedHttpExchange} instead, with the route's shape; AWS calls by {@link traced}.
 *
 * @example
 * activeTracer()?.putAnnotation('route', 'getPatron');
 */
export const activeTracer = (env: NodeJS.ProcessEnv = process.env): Tracer | undefined => {
  if (!isTracingEnabled(env)) return undefined;
  // Loaded only here, on purpose: the tracer's import evaluates the X-Ray SDK and cls-hooked (async hooks on
  // every promise), a cold-start and runtime cost a stage with tracing off must not pay.
  tracer ??= new (require('@aws-lambda-powertools/tracer') as typeof import('@aws-lambda-powertools/tracer')).Tracer({ captureHTTPsRequests: false });
  return tracer;
};

/** One outgoing HTTP call as a trace records it: the host (the subsegment's name), the method, and a URL without ids. */
export interface TracedHttpRequest {
  readonly host: string;
  readonly method: string;
  /** What X-Ray shows as the request URL: the route's shape (`https://host/almaws/v1/users/{id}/loans`), never ids. */
  readonly url: string;
}

/**
 * Runs `send` inside an X-Ray subsegment named after `request.host` recording `request.method` and `request.url` as given,
 * and the reply's status (throttle flag on 429, error on 4xx, fault on 5xx and on no reply or a throw), as Powertools'
 * fetch capture does but with a URL the caller chose: the Alma client gives the route's shape, so no patron id or
 * record id reaches X-Ray. The error of a throw is not recorded (its message may name the request); only the flag.
 * With tracing off, or outside a traced invocation, `send` runs bare.
 *
 * @example
 * new AlmaHttpApi({ baseUrl, apiKey, traceExchange: tracedHttpExchange }); // told { host, method, url: the route's shape }
 */
export const tracedHttpExchange = async <T extends { readonly status: number } | { readonly retry: unknown }>(
  request: TracedHttpRequest,
  send: () => Promise<T>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<T> => {
  const parent = activeTracer(env)?.getSegment();
  if (parent === undefined) return send();
  // A child of the current segment, not made current itself: concurrent exchanges (a list's pages) share the
  // context, and nothing runs inside this one that could record under it.
  const subsegment = parent.addNewSubsegment(request.host);
  subsegment.addAttribute('namespace', 'remote');
  const http: { request: { url: string; method: string }; response?: { status: number } } = { request: { url: request.url, method: request.method } };
  Object.assign(subsegment, { http });
  try {
    const result = await send();
    if ('status' in result) {
      http.response = { status: result.status };
      if (result.status === 429) subsegment.addThrottleFlag();
      if (result.status >= 400 && result.status < 500) subsegment.addErrorFlag();
      else if (result.status >= 500) subsegment.addFaultFlag();
    } else subsegment.addFaultFlag();
    return result;
  } catch (error) {
    subsegment.addFaultFlag();
    throw error;
  } finally {
    subsegment.close();
  }
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

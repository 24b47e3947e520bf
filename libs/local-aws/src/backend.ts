import { startDynamoDbLocal } from './dynamodb-local';
import { LOCALSTACK_IMAGE, startLocalStack } from './localstack';
import { startMoto } from './moto';
import { type LocalServer, type LogLine, withinTimeout } from './server-process';

/** 'localstack': one LocalStack container for everything. 'local': DynamoDB Local + moto as plain processes. */
export type AwsBackend = 'localstack' | 'local';

export interface LocalAws {
  backend: AwsBackend;
  /**
   * Env to hand to AWS SDK clients / child processes: AWS_REGION, AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID,
   * AWS_SECRET_ACCESS_KEY (dummy "test"), AWS_ENDPOINT_URL (moto or LocalStack), AWS_ENDPOINT_URL_DYNAMODB
   * (DynamoDB Local or LocalStack).
   */
  env: Record<string, string>;
  /** `other` is the moto or LocalStack base URL. */
  endpoints: { dynamodb: string; other: string };
  /** One human line, e.g. "local: DynamoDB Local 3.3.1 on http://127.0.0.1:41234, moto 5.2.1 on http://127.0.0.1:41235". */
  description: string;
  /** Stops every server started for this instance; safe to call twice. */
  stop(): Promise<void>;
}

// The stack's home region (see tools/scripts/sls.mjs); emulators accept any, but matching it keeps ARNs familiar.
const REGION = 'eu-west-1';
const RUNTIME_PROBE_TIMEOUT_MS = 5_000;
const VALID_REQUESTS = ['auto', 'localstack', 'local'] as const;

/**
 * Decides the backend from AWS_TEST_BACKEND: 'local' is used as is (no probe), 'localstack' requires a
 * container runtime, and unset / '' / 'auto' picks LocalStack when a runtime answers, else local.
 * Case and surrounding spaces are ignored. Throws on a forced 'localstack' without a runtime and on any other value.
 */
export async function resolveBackend(requested: string | undefined, runtimeAvailable: () => Promise<boolean>): Promise<AwsBackend> {
  const wanted = (requested ?? '').trim().toLowerCase() || 'auto';
  switch (wanted) {
    case 'local':
      return 'local';
    case 'localstack':
      if (!(await runtimeAvailable())) {
        throw new Error(
          'AWS_TEST_BACKEND=localstack, but no container runtime (Docker, Podman, …) answered. ' +
            'Start one, or use AWS_TEST_BACKEND=local (DynamoDB Local + moto, no containers).',
        );
      }
      return 'localstack';
    case 'auto':
      return (await runtimeAvailable()) ? 'localstack' : 'local';
    default:
      throw new Error(
        `AWS_TEST_BACKEND="${requested}" is not a known backend. Valid values: ${VALID_REQUESTS.map((v) => `"${v}"`).join(', ')}, or unset (same as "auto").`,
      );
  }
}

/**
 * Whether testcontainers finds a working container runtime. Without one it rejects within
 * milliseconds; the timeout only guards against a runtime socket that accepts but never answers.
 */
export async function containerRuntimeAvailable(): Promise<boolean> {
  const probed = import('testcontainers').then(({ getContainerRuntimeClient }) => getContainerRuntimeClient()).then(() => true);
  return withinTimeout(probed, RUNTIME_PROBE_TIMEOUT_MS);
}

/**
 * Starts the AWS emulators for `backend` (AWS_TEST_BACKEND semantics, see resolveBackend) and resolves
 * once every one of them answers. For 'local', DynamoDB Local and moto start in parallel; if either
 * fails, the other is stopped before the error is rethrown.
 */
export async function startLocalAws(opts: { backend?: string; log?: LogLine } = {}): Promise<LocalAws> {
  const log = opts.log ?? (() => undefined);
  const backend = await resolveBackend(opts.backend, containerRuntimeAvailable);

  if (backend === 'localstack') {
    const localstack = await startLocalStack({ log });
    return assemble(backend, localstack.endpoint, localstack.endpoint, `localstack: ${LOCALSTACK_IMAGE} on ${localstack.endpoint}`, [localstack]);
  }

  const [dynamodb, moto] = await Promise.allSettled([startDynamoDbLocal({ log }), startMoto({ log })]);
  if (dynamodb.status === 'rejected' || moto.status === 'rejected') {
    await Promise.allSettled([dynamodb, moto].flatMap((result) => (result.status === 'fulfilled' ? [result.value.stop()] : [])));
    const reasons = [dynamodb, moto].flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
    throw reasons.length === 1 ? reasons[0] : new AggregateError(reasons, reasons.map(String).join('\n'));
  }
  const where = dynamodb.value.loopbackOnly ? '' : ' (all interfaces)';
  const description =
    `local: DynamoDB Local ${dynamodb.value.version} on ${dynamodb.value.endpoint}${where}, ` +
    `moto ${moto.value.version} on ${moto.value.endpoint}`;
  return assemble(backend, dynamodb.value.endpoint, moto.value.endpoint, description, [dynamodb.value, moto.value]);
}

function assemble(backend: AwsBackend, dynamodb: string, other: string, description: string, servers: LocalServer[]): LocalAws {
  let stopping: Promise<void> | undefined;
  return {
    backend,
    env: {
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL: other,
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb,
    },
    endpoints: { dynamodb, other },
    description,
    stop: () => {
      stopping ??= Promise.allSettled(servers.map((server) => server.stop())).then((results) => {
        const failed = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
        if (failed.length > 0) throw failed[0];
      });
      return stopping;
    },
  };
}

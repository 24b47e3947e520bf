import { isIP } from 'node:net';
import { secondsSince, type LocalServer, type LogLine } from './server-process';

/** Pinned: LocalStack changes behaviour between releases, and `latest` would make test runs unrepeatable. */
export const LOCALSTACK_IMAGE = 'localstack/localstack:4.14.0';
const EDGE_PORT = 4566;

/**
 * Starts LocalStack in a container through testcontainers and resolves once /_localstack/health
 * answers 200. Needs a container runtime (see containerRuntimeAvailable). LOCALSTACK_AUTH_TOKEN is
 * passed through when set.
 *
 * When the runtime is local the port is published on 127.0.0.1 only; with a remote runtime
 * (DOCKER_HOST=tcp://…) it must be published on the runtime's interfaces to be reachable at all.
 */
export async function startLocalStack(opts: { log?: LogLine } = {}): Promise<LocalServer> {
  const log = opts.log ?? (() => undefined);
  // Loaded lazily: testcontainers takes most of a second to load, wasted when the local backend is used.
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers');
  const runtime = await getContainerRuntimeClient();
  const runtimeIsLocal = runtime.info.containerRuntime.hostIps.every(({ address }) => isLoopback(address));

  // testcontainers has no public option for the host IP of a published port, and always publishes on
  // every interface; the (protected) host config is where Docker takes it from.
  class LoopbackPublishedContainer extends GenericContainer {
    publishOnLoopback(containerPort: number): this {
      this.withExposedPorts(containerPort);
      this.hostConfig.PortBindings = { ...this.hostConfig.PortBindings, [`${containerPort}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: '0' }] };
      return this;
    }
  }

  const authToken = process.env['LOCALSTACK_AUTH_TOKEN'];
  const container = new LoopbackPublishedContainer(LOCALSTACK_IMAGE)
    .withEnvironment(authToken ? { LOCALSTACK_AUTH_TOKEN: authToken } : {})
    .withWaitStrategy(Wait.forHttp('/_localstack/health', EDGE_PORT).forStatusCode(200))
    .withStartupTimeout(120_000);
  if (runtimeIsLocal) container.publishOnLoopback(EDGE_PORT);
  else container.withExposedPorts(EDGE_PORT);

  const started = Date.now();
  log(`starting ${LOCALSTACK_IMAGE}…`);
  const running = await container.start();
  // 127.0.0.1 rather than getHost(): "localhost" may resolve to ::1, where nothing is published.
  const host = runtimeIsLocal ? '127.0.0.1' : running.getHost();
  const endpoint = `http://${host}:${running.getMappedPort(EDGE_PORT)}`;
  log(`LocalStack ready on ${endpoint} in ${secondsSince(started)}`);
  return {
    endpoint,
    stop: async () => {
      await running.stop();
    },
  };
}

function isLoopback(address: string): boolean {
  return isIP(address) === 4 ? address.startsWith('127.') : address === '::1';
}

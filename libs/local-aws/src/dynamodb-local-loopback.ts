import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const LOOPBACK_LAUNCHER_CLASS = 'LoopbackDynamoDbLocal';

/** Printed by the launcher when it had to fall back to all interfaces; startDynamoDbLocal looks for it. */
export const LOOPBACK_UNAVAILABLE_MARKER = 'local-aws: could not bind DynamoDB Local to 127.0.0.1';

// DynamoDB Local has no host/bind option (its -help lists none): ServerRunner builds Jetty with
// `new Server(port)`, which listens on every interface. This launcher builds the same server through
// ServerRunner's public factory and, before start(), points Jetty's connector at 127.0.0.1. The Jetty
// instance sits in a private field, hence reflection; if a future DynamoDB Local renames it, the
// launcher says so and starts on all interfaces rather than breaking every test run.
const LAUNCHER_SOURCE = `
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public final class ${LOOPBACK_LAUNCHER_CLASS} {
  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    try {
      Field field = DynamoDBProxyServer.class.getDeclaredField("server");
      field.setAccessible(true);
      Server jetty = (Server) field.get(proxy);
      int bound = 0;
      for (Connector connector : jetty.getConnectors()) {
        if (connector instanceof ServerConnector) {
          ((ServerConnector) connector).setHost("127.0.0.1");
          bound++;
        }
      }
      if (bound == 0) throw new IllegalStateException("no ServerConnector found");
    } catch (ReflectiveOperationException | RuntimeException e) {
      System.err.println("${LOOPBACK_UNAVAILABLE_MARKER} (" + e + "); listening on all interfaces");
    }
    proxy.start();
  }
}
`;

/**
 * Compiles the loopback launcher once per DynamoDB Local version and returns the directory holding its
 * class, or a reason why it cannot (typically: only a JRE, no javac).
 *
 * The class is cached under node_modules/.cache rather than compiled on every start (java's
 * single-file source mode would cost ~1.5 s per start), and rather than in the shared /tmp, where
 * another local user could plant a class file for us to run.
 */
export async function compileLoopbackLauncher(options: {
  jarDir: string;
  cacheRoot: string;
  javac: string;
  log: (line: string) => void;
}): Promise<{ classDir: string } | { unavailable: string }> {
  const key = createHash('sha256').update(LAUNCHER_SOURCE).update(options.jarDir).digest('hex').slice(0, 16);
  const classDir = join(options.cacheRoot, `dynamodb-local-loopback-${key}`);
  if (existsSync(join(classDir, `${LOOPBACK_LAUNCHER_CLASS}.class`))) return { classDir };

  options.log(`compiling the DynamoDB Local loopback launcher (once, cached in ${classDir})…`);
  await mkdir(options.cacheRoot, { recursive: true });
  // Build in a private directory and rename into place, so parallel Jest processes never see half a class.
  const workDir = await mkdtemp(join(options.cacheRoot, 'compile-'));
  try {
    const sourceFile = join(workDir, `${LOOPBACK_LAUNCHER_CLASS}.java`);
    const outDir = join(workDir, 'classes');
    await writeFile(sourceFile, LAUNCHER_SOURCE);
    await mkdir(outDir);
    // The jar's manifest Class-Path brings in Jetty; -Xlint:-path silences its non-jar entries.
    await execFileAsync(options.javac, ['-Xlint:-path', '-nowarn', '-d', outDir, '-cp', 'DynamoDBLocal.jar', sourceFile], {
      cwd: options.jarDir,
      timeout: 60_000,
    });
    try {
      await rename(outDir, classDir);
    } catch (error) {
      // Another process won the race; its copy is identical.
      if (!existsSync(join(classDir, `${LOOPBACK_LAUNCHER_CLASS}.class`))) throw error;
    }
    return { classDir };
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n').slice(0, 3).join(' ') : String(error);
    return { unavailable: `could not compile it with ${options.javac}: ${detail}` };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

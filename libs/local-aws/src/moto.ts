import { execFile } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port';
import { httpStatus, secondsSince, ServerProcess, waitUntilReady, type LocalServer, type LogLine } from './server-process';

const execFileAsync = promisify(execFile);
const LOCAL_ACCOUNT_ID = '000000000000';

/** A running moto server; `version` is moto's own (e.g. "5.2.1"). */
export interface MotoServer extends LocalServer {
  version: string;
}

/**
 * Starts `python -m moto.server` on 127.0.0.1 (for SQS, SNS, SSM, S3, CloudFormation, Lambda, IAM;
 * never DynamoDB, whose moto transactions are unreliable under concurrency).
 *
 * The Python is MOTO_PYTHON when set, else the first of python3, ~/.pyenv/shims/python3, python that
 * can import moto. Resolves once moto's /moto-api/ answers (bounded by ~30 s).
 */
export async function startMoto(opts: { port?: number; log?: LogLine } = {}): Promise<MotoServer> {
  const log = opts.log ?? (() => undefined);
  const { python, version } = await findMotoPython();
  const port = opts.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  const started = Date.now();
  log(`starting moto ${version} on ${endpoint}…`);
  const server = new ServerProcess('moto', python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    // LocalStack's account id rather than moto's 123456789012, so ARNs look the same on either backend.
    env: { ...process.env, MOTO_ACCOUNT_ID: process.env['MOTO_ACCOUNT_ID'] ?? LOCAL_ACCOUNT_ID },
  });
  await waitUntilReady(server, async () => (await httpStatus(`${endpoint}/moto-api/`)) === 200, {
    fatalOutput: /Address already in use/,
  });
  log(`moto ready in ${secondsSince(started)}`);
  return { endpoint, version, stop: () => server.stop() };
}

let found: Promise<{ python: string; version: string }> | undefined;

/** Memoised per process: probing imports moto, which costs most of a second. */
function findMotoPython(): Promise<{ python: string; version: string }> {
  found ??= probeCandidates().catch((error: unknown) => {
    found = undefined;
    throw error;
  });
  return found;
}

async function probeCandidates(): Promise<{ python: string; version: string }> {
  const override = process.env['MOTO_PYTHON']?.trim();
  const candidates = override ? [override] : [...new Set(['python3', join(homedir(), '.pyenv', 'shims', 'python3'), 'python'])];
  const problems: string[] = [];
  for (const python of candidates) {
    try {
      // Importing moto.server too catches a moto installed without its [server] extra.
      const { stdout } = await execFileAsync(python, ['-c', 'import moto, moto.server; print(moto.__version__)'], { timeout: 20_000 });
      return { python, version: stdout.trim() };
    } catch (error) {
      problems.push(`${python}: ${describeProbeFailure(error)}`);
    }
  }
  throw new Error(
    `No python with moto found (tried ${problems.join('; ')}). ` +
      `Fix: \`python3 -m pip install 'moto[server]==5.2.1'\`, or set MOTO_PYTHON to a python that has moto[server] installed.`,
  );
}

function describeProbeFailure(error: unknown): string {
  const failure = error as { code?: string | number; stderr?: string; message?: string };
  if (failure.code === 'ENOENT') return 'not found';
  const lastLine = failure.stderr?.trim().split('\n').at(-1);
  return lastLine || failure.message || String(error);
}

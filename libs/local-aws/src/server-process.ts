import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';

/** What every start function hands back: where the server answers and how to shut it down. */
export interface LocalServer {
  endpoint: string;
  stop(): Promise<void>;
}

/** Progress sink; the default drops lines so library callers stay quiet unless they ask. */
export type LogLine = (line: string) => void;

export const DEFAULT_READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;
const PROBE_TIMEOUT_MS = 3_000;
const OUTPUT_KEPT_CHARS = 8_000;
const TAIL_LINES = 15;

// Children of this process that are still running. The 'exit' hook can only run synchronous code, so
// SIGKILL is the one thing it can do; a graceful stop() has normally emptied this set long before.
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function killLiveChildren(): void {
  for (const child of liveChildren) child.kill('SIGKILL');
}

/**
 * A server started as a child process, with the tail of its output kept for error messages.
 *
 * Not detached: it stays in our process group so a terminal Ctrl-C reaches it too, and it is killed
 * when this process exits normally. A SIGKILL of this process cannot be intercepted, so call stop().
 */
export class ServerProcess {
  private readonly child: ChildProcess;
  private output = '';
  private exitReason: string | undefined;
  private readonly closed: Promise<void>;

  constructor(
    readonly name: string,
    command: string,
    args: readonly string[],
    options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
  ) {
    if (!exitHookInstalled) {
      process.on('exit', killLiveChildren);
      exitHookInstalled = true;
    }
    this.child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      // Both pipes must be drained for the child's whole life: moto logs every request, and a full pipe would block it.
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    liveChildren.add(this.child);
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-OUTPUT_KEPT_CHARS);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.closed = new Promise((resolve) => {
      this.child.once('error', (error: NodeJS.ErrnoException) => {
        this.exitReason ??=
          error.code === 'ENOENT' ? `\`${command}\` was not found (is it installed and on PATH?)` : `could not run \`${command}\`: ${error.message}`;
        // A child that never started emits no 'close'.
        if (this.child.pid === undefined) {
          liveChildren.delete(this.child);
          resolve();
        }
      });
      // 'close' rather than 'exit': it also waits for the pipes, so Jest sees no handle left open after stop().
      this.child.once('close', (code, signal) => {
        this.exitReason ??= signal ? `killed by ${signal}` : `exit code ${String(code)}`;
        liveChildren.delete(this.child);
        resolve();
      });
    });
  }

  /** Everything the child printed (stdout and stderr interleaved), last few KB only. */
  allOutput(): string {
    return this.output;
  }

  /** Why the child is gone, or undefined while it runs. */
  get exited(): string | undefined {
    return this.exitReason;
  }

  /** An Error that carries the server's last output lines, which is usually where the real cause is. */
  failure(message: string): Error {
    const tail = this.output
      .split(/\r?\n/)
      .filter((line) => line.trim() !== '')
      .slice(-TAIL_LINES);
    const shown = tail.length > 0 ? `\nLast output of ${this.name}:\n  ${tail.join('\n  ')}` : `\n${this.name} printed nothing.`;
    return new Error(`${this.name} ${message}.${shown}`);
  }

  /** SIGTERM, then SIGKILL after a grace period; resolves once the process and its pipes are gone. */
  async stop(): Promise<void> {
    if (this.exitReason === undefined) {
      this.child.kill('SIGTERM');
      const force = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
      await this.closed;
      clearTimeout(force);
    }
    await this.closed;
  }
}

/**
 * Polls `probe` until it answers true. Fails fast when the child dies or prints a known fatal line,
 * and on timeout kills the child, since a half-started server would otherwise outlive the failed start.
 */
export async function waitUntilReady(
  server: ServerProcess,
  probe: () => Promise<boolean>,
  options: { timeoutMs?: number; fatalOutput?: RegExp } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.exited !== undefined) throw server.failure(`stopped before it was ready (${server.exited})`);
    if (options.fatalOutput?.test(server.allOutput())) {
      await server.stop();
      throw server.failure('failed to start');
    }
    if (await withinTimeout(probe(), PROBE_TIMEOUT_MS)) return;
    if (Date.now() >= deadline) {
      await server.stop();
      throw server.failure(`did not answer within ${timeoutMs / 1000} s`);
    }
    await sleep(100);
  }
}

/** The probe's answer, false when it throws or hangs: one stuck probe must not stall the whole wait. */
export async function withinTimeout(probe: Promise<boolean>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([probe.catch(() => false), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** Status code of one HTTP request, or undefined when nothing answered within `timeoutMs`. */
export function httpStatus(url: string, timeoutMs = 1_000): Promise<number | undefined> {
  return new Promise((resolve) => {
    // agent: false so no keep-alive socket outlives the probe.
    const req = request(url, { method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(undefined));
    req.end();
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** "1.2 s", for progress lines. */
export function secondsSince(startMs: number): string {
  return `${((Date.now() - startMs) / 1000).toFixed(1)} s`;
}

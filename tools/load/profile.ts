import { Session } from 'node:inspector';
import { cpus, loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/**
 * The frames with the most self time in a V8 CPU profile (the `.cpuprofile` JSON `node --cpu-prof` writes), as
 * `share% name (file:line)`, merged by frame; idle and GC included, since "idle" is the answer when the time goes to
 * another process (the emulators).
 *
 * @example
 * topFrames(profile, 3); // ['41.2% (idle)', '9.8% (garbage collector)', '3.1% parse (…/index.js:12)']
 */
export const topFrames = (profile: { nodes: readonly ProfileNode[] }, count: number): string[] => {
  const byFrame = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    total += hits;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules|dist|apps|libs|tools)\//, '$1/');
    const name = url === '' ? functionName || '(anonymous)' : `${functionName || '(anonymous)'} (${file}:${lineNumber + 1})`;
    byFrame.set(name, (byFrame.get(name) ?? 0) + hits);
  }
  return [...byFrame.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, hits]) => `${((hits / Math.max(total, 1)) * 100).toFixed(1)}% ${name}`);
};

/** Busy and total CPU ticks of the whole machine, for a share of it over an interval. */
const machineTicks = () =>
  cpus().reduce(
    (sum, cpu) => {
      const busy = cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq;
      return { busy: sum.busy + busy, total: sum.total + busy + cpu.times.idle };
    },
    { busy: 0, total: 0 },
  );

/**
 * Where the CPU went over a stretch of the run: this process (every function, the HTTP port, the fake Alma and the
 * load itself run in it) against the whole machine (the emulators, DynamoDB Local and moto, are other processes).
 *
 * @example
 * const meter = startCpuMeter(); … ; meter.stop(); // { nodeCpuSeconds: 41.3, wallSeconds: 62.0, machineBusyShare: 0.97, cores: 2, loadAverage: 3.1 }
 */
export const startCpuMeter = () => {
  const wall = Date.now();
  const own = process.cpuUsage();
  const machine = machineTicks();
  return {
    stop() {
      const used = process.cpuUsage(own);
      const after = machineTicks();
      return {
        nodeCpuSeconds: (used.user + used.system) / 1e6,
        wallSeconds: (Date.now() - wall) / 1000,
        machineBusyShare: (after.busy - machine.busy) / Math.max(1, after.total - machine.total),
        cores: cpus().length,
        /** The machine's 1-minute load average at the end: above the core count, other work was queueing for CPU too. */
        loadAverage: loadavg()[0],
      };
    },
  };
};

/**
 * A CPU profile of this process through the inspector (what `node --cpu-prof` records, without restarting under
 * tsx): started now, stopped by the returned function, which writes `load.cpuprofile` into `dir` and returns the top frames.
 *
 * @example
 * const stop = await startCpuProfile(); … ; const top = await stop('tmp/prof');
 */
export const startCpuProfile = async (): Promise<(dir: string) => Promise<string[]>> => {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<any>((resolve, reject) => session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 1000 });
  await post('Profiler.start');
  return async (dir: string) => {
    const { profile } = (await post('Profiler.stop')) as { profile: { nodes: ProfileNode[] } };
    session.disconnect();
    writeFileSync(join(dir, 'load.cpuprofile'), JSON.stringify(profile));
    return topFrames(profile, 20);
  };
};

/** What the emulator can take: SNS publishes per second through a topic delivering raw to a queue, as the webhook path does. */
export interface EmulatorFloor {
  readonly concurrency: number;
  /** One entry per round: publishes per second, and the median call in ms. */
  readonly rounds: readonly { perSecond: number; medianMs: number }[];
}

/**
 * The local stack's own floor, measured on the run's moto before the load: `rounds` rounds of `calls` SNS publishes,
 * `concurrency` at a time, to a scratch topic subscribed raw to a scratch queue (the shape of the receiver's publish).
 * Every webhook costs moto at least one such publish (the receiver's) and each change one more (publish-changes), so
 * the webhooks per second the local stack can carry stay below this figure, whatever the functions do.
 *
 * @example
 * const floor = await measureEmulatorFloor({ publish, calls: 200, rounds: 3, concurrency: 8 });
 */
export const measureEmulatorFloor = async (options: {
  publish: () => Promise<unknown>;
  calls: number;
  rounds: number;
  concurrency: number;
}): Promise<EmulatorFloor> => {
  const rounds: { perSecond: number; medianMs: number }[] = [];
  for (let round = 0; round < options.rounds; round += 1) {
    const durations: number[] = [];
    let issued = 0;
    const began = performance.now();
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (issued < options.calls) {
          issued += 1;
          const start = performance.now();
          await options.publish();
          durations.push(performance.now() - start);
        }
      }),
    );
    durations.sort((a, b) => a - b);
    rounds.push({ perSecond: options.calls / ((performance.now() - began) / 1000), medianMs: durations[durations.length >> 1] ?? 0 });
  }
  return { concurrency: options.concurrency, rounds };
};

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

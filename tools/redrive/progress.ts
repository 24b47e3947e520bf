/** A plain-ASCII progress bar on a stream (stderr): redrawn in place on a TTY, else one line per 10%. */
export interface ProgressBar {
  /** Counts one message done. */
  tick(): void;
  /** Ends the bar's line (on a TTY) so the summary starts on its own line. */
  done(): void;
}

const WIDTH = 30;

/**
 * A progress bar over `total` messages, with `label` in front. Without a TTY (CI, a pipe) it prints a line each
 * time another tenth is reached, so logs stay readable.
 *
 * @example
 * const bar = progressBar(process.stderr, 42, 'replay');
 * bar.tick(); // [#.............................]   1/42   2% replay
 */
export const progressBar = (stream: NodeJS.WritableStream & { isTTY?: boolean }, total: number, label: string): ProgressBar => {
  let count = 0;
  let lastTenth = -1;
  const line = () => {
    const ratio = total > 0 ? Math.min(1, count / total) : 1;
    const filled = Math.round(ratio * WIDTH);
    const width = String(total).length;
    return `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${String(count).padStart(width)}/${total} ${String(Math.round(ratio * 100)).padStart(3)}% ${label}`;
  };
  const draw = () => {
    if (stream.isTTY) {
      stream.write(`\r${line()}`);
      return;
    }
    const tenth = total > 0 ? Math.floor((Math.min(count, total) / total) * 10) : 10;
    if (tenth > lastTenth) {
      lastTenth = tenth;
      stream.write(`${line()}\n`);
    }
  };
  draw();
  return {
    tick() {
      count += 1;
      // More messages than counted at the start can arrive meanwhile: the total grows rather than pass 100%.
      if (count > total) total = count;
      draw();
    },
    done() {
      if (stream.isTTY) stream.write('\n');
    },
  };
};

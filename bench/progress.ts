// SPDX-License-Identifier: Apache-2.0
/**
 * A progress line on stderr while a workload runs: its name, objects created and Ready out
 * of the total, elapsed seconds. Redrawn in place on a terminal; on a log (CI), one line
 * every few seconds and whenever the workload ends.
 */

/** Where the line goes: stderr, or anything that writes text and may be a terminal. */
export interface ProgressSink {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** The progress line (pure). */
export function progressLine(workload: string, created: number, ready: number, total: number, seconds: number): string {
  return `sessionbench: ${workload}: ${created}/${total} created, ${ready}/${total} Ready, ${seconds.toFixed(0)} s`;
}

/** The progress of one workload; call {@link Progress.set} as counts change and {@link Progress.done} at the end. */
export class Progress {
  private created = 0;
  private ready = 0;
  private readonly started = performance.now();
  private readonly timer: NodeJS.Timeout;
  private width = 0;
  private readonly workload: string;
  private readonly total: number;
  private readonly sink: ProgressSink;

  /** Starts drawing: every 250 ms on a terminal, else every `logEveryMs`. */
  constructor(workload: string, total: number, sink: ProgressSink = process.stderr, logEveryMs = 5000) {
    this.workload = workload;
    this.total = total;
    this.sink = sink;
    this.timer = setInterval(() => this.draw(), sink.isTTY ? 250 : logEveryMs);
    this.timer.unref();
  }

  /** Objects created (the create call returned) and Ready so far. */
  set(created: number, ready: number): void {
    this.created = created;
    this.ready = ready;
  }

  /** Objects created and Ready so far, as last {@link Progress.set}. */
  counts(): { created: number; ready: number } {
    return { created: this.created, ready: this.ready };
  }

  /** Draws the final line and stops. */
  done(): void {
    clearInterval(this.timer);
    this.draw();
    if (this.sink.isTTY) this.sink.write('\n');
  }

  private draw(): void {
    const line = progressLine(this.workload, this.created, this.ready, this.total, (performance.now() - this.started) / 1000);
    if (!this.sink.isTTY) {
      this.sink.write(line + '\n');
      return;
    }
    this.sink.write('\r' + line.padEnd(this.width));
    this.width = line.length;
  }
}

// SPDX-License-Identifier: Apache-2.0
/**
 * Runs the control plane processes: spawns each with its output in a log file,
 * restarts one that exits unexpectedly (with backoff), and stops them all in reverse
 * order. Pids are written to `<dir>/<name>.pid` so that `panalysis cluster down` can
 * find them even if the supervisor itself was killed.
 *
 * Guarantees: after {@link Supervisor.stop} resolves, no process it started is alive.
 * Caveats: a SIGKILLed supervisor cannot stop its children; `cluster down` does, from the pid files.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One process to run. */
export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
}

interface Running {
  spec: ProcessSpec;
  child: ChildProcess;
  restarts: number;
  exited: Promise<void>;
}

/** Sends `signal` to a pid; false when it no longer exists. */
export function signalPid(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Signals the process group of `pid` (our children lead their own), else the pid alone. */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  return signalPid(-pid, signal) || signalPid(pid, signal);
}

/** Waits until `pid` is gone or `ms` passed; true when gone. */
export async function waitPidGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!signalPid(pid, 0)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !signalPid(pid, 0);
}

/** SIGKILLs the process group of every pid file in `pidDir` (what a supervisor started) and waits for them. */
export async function killFromPidFiles(pidDir: string): Promise<void> {
  const pids = (existsSync(pidDir) ? readdirSync(pidDir) : []).map((f) => Number(readFileSync(join(pidDir, f), 'utf8'))).filter((p) => p > 0);
  const killed = pids.filter((pid) => signalGroup(pid, 'SIGKILL'));
  await Promise.all(killed.map((pid) => waitPidGone(pid, 5_000)));
}

export class Supervisor {
  private readonly running = new Map<string, Running>();
  private stopping = false;
  private readonly logDir: string;
  private readonly pidDir: string;
  private readonly log: (msg: string) => void;
  private readonly onExitHook = (): void => this.killAllNow();

  /** @param logDir where `<name>.log` files go; @param pidDir where `<name>.pid` files go. */
  constructor(logDir: string, pidDir: string, log: (msg: string) => void) {
    this.logDir = logDir;
    this.pidDir = pidDir;
    this.log = log;
    process.on('exit', this.onExitHook);
  }

  /** Starts `spec` and keeps it running until {@link stop}. */
  start(spec: ProcessSpec): void {
    const logFd = openSync(join(this.logDir, `${spec.name}.log`), 'a');
    const child = spawn(spec.command, spec.args, {
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', logFd, logFd],
      detached: true,
    });
    closeSync(logFd);
    const previous = this.running.get(spec.name);
    const entry: Running = { spec, child, restarts: previous ? previous.restarts + 1 : 0, exited: new Promise((r) => child.once('exit', () => r())) };
    this.running.set(spec.name, entry);
    if (child.pid) writeFileSync(join(this.pidDir, `${spec.name}.pid`), String(child.pid));
    child.once('exit', (code, signal) => this.onExit(entry, code, signal));
    child.once('error', (err) => this.log(`Failed to start ${spec.name}: ${err.message}`));
  }

  private onExit(entry: Running, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping || this.running.get(entry.spec.name) !== entry) return;
    const delay = Math.min(30_000, 500 * 2 ** Math.min(entry.restarts, 6));
    this.log(`Process ${entry.spec.name} exited (code=${code} signal=${signal}); restarting in ${delay} ms, see ${join(this.logDir, entry.spec.name + '.log')}`);
    setTimeout(() => {
      if (!this.stopping) this.start(entry.spec);
    }, delay).unref();
  }

  /** The pid of a running process, for tests that kill one on purpose. */
  pid(name: string): number | undefined {
    return this.running.get(name)?.child.pid;
  }

  /** How often `name` was restarted. */
  restarts(name: string): number {
    return this.running.get(name)?.restarts ?? 0;
  }

  /**
   * Stops every process: SIGTERM to all at once, then SIGKILL to those still alive after
   * `graceMs`. Resolves when all are gone, so within about `graceMs` plus the kernel's
   * time to reap a killed process.
   */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopping = true;
    const entries = [...this.running.values()];
    const alive = entries.filter((e) => e.child.pid && e.child.exitCode === null && e.child.signalCode === null);
    for (const entry of alive) signalGroup(entry.child.pid!, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((r) => { timer = setTimeout(r, graceMs); });
    await Promise.race([Promise.all(alive.map((e) => e.exited)), deadline]);
    clearTimeout(timer);
    for (const entry of alive) {
      if (entry.child.exitCode === null && entry.child.signalCode === null) signalGroup(entry.child.pid!, 'SIGKILL');
    }
    await Promise.all(alive.map((e) => e.exited));
    for (const entry of entries) rmSync(join(this.pidDir, `${entry.spec.name}.pid`), { force: true });
    this.running.clear();
    process.off('exit', this.onExitHook);
  }

  /** Kills every process at once (a forced stop); {@link stop} still cleans up afterwards. */
  killAll(): void {
    this.stopping = true;
    this.killAllNow();
  }

  private killAllNow(): void {
    for (const entry of this.running.values()) {
      if (entry.child.pid) signalGroup(entry.child.pid, 'SIGKILL');
    }
  }
}

// SPDX-License-Identifier: Apache-2.0
/** The operator under benchmark as a child process: start, stop, CPU time, peak RSS and its write counter. */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { freePort, probe, waitFor } from '../src/cluster/wait.ts';
import { spawnOperator } from '../src/operator/spawn.ts';
import { operatorMetrics, sumBy } from './metrics-text.ts';

export interface OperatorProcess {
  child: ChildProcess;
  /** Probe and metrics port. */
  port: number;
  /** Spawn → /readyz answered 200. */
  readyMs: number;
}

/** Starts the operator (resync every 5 s) and waits until it is ready. */
export async function startOperator(kubeconfig: string): Promise<OperatorProcess> {
  const port = await freePort();
  const started = performance.now();
  const child = spawnOperator({ kubeconfig, port, args: ['--resync-seconds', '5'] });
  await waitFor('the operator', async () => (await probe(`http://127.0.0.1:${port}/readyz`)) === 200, 60_000, '', 50);
  return { child, port, readyMs: Math.round(performance.now() - started) };
}

/** Stops the operator (SIGTERM) and waits until it has exited. */
export async function stopOperator(op: OperatorProcess): Promise<void> {
  const exited = new Promise((r) => op.child.once('exit', r));
  op.child.kill('SIGTERM');
  await exited;
}

/** User + system CPU seconds of process `pid` so far. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Peak resident set size of `pid` in MB, since it started or since {@link resetPeakRss}. */
export function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(m?.[1] ?? 0) / 1024);
}

/** Resets the peak RSS of `pid` to its current RSS; false where the kernel does not allow it. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** The operator's API writes so far (controller_runtime_kube_writes_total, all verbs). */
export async function writes(port: number): Promise<number> {
  return Object.values(await writesByVerb(port)).reduce((a, b) => a + b, 0);
}

/** The operator's API writes so far, by verb. */
export async function writesByVerb(port: number): Promise<Record<string, number>> {
  return sumBy(await operatorMetrics(port), 'controller_runtime_kube_writes_total', 'verb');
}

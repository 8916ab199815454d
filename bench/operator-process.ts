// SPDX-License-Identifier: Apache-2.0
/** The operator under benchmark as a child process: start, stop, CPU time, RSS, V8 heap, its write and reconcile counters. */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort, probe, waitFor } from '../src/cluster/wait.ts';
import { parse } from 'yaml';
import { REPO_ROOT } from '../src/cluster/binaries.ts';
import { spawnOperator } from '../src/operator/spawn.ts';
import { operatorMetrics, sumBy } from './metrics-text.ts';

export interface OperatorProcess {
  child: ChildProcess;
  /** Probe and metrics port. */
  port: number;
  /** Spawn → /readyz answered 200. */
  readyMs: number;
  /** Where heap-probe.ts writes the operator's memory figures. */
  heapFile: string;
}

/**
 * The operator's heap sizes as the Helm chart sets them (values.yaml operator.heapMb and semiSpaceMb), or
 * BENCH_OPERATOR_HEAP_MB to measure a heap limit the chart's default does not hold.
 */
export const OPERATOR_HEAP = `--max-old-space-size=${Number(process.env.BENCH_OPERATOR_HEAP_MB) || chartOperator().heapMb} --max-semi-space-size=${chartOperator().semiSpaceMb}`;

/** The `operator` part of the chart's values.yaml. */
function chartOperator(): { heapMb: number; semiSpaceMb: number; resyncSeconds: number } {
  return (parse(readFileSync(join(REPO_ROOT, 'charts', 'panalysis', 'values.yaml'), 'utf8')) as { operator: { heapMb: number; semiSpaceMb: number; resyncSeconds: number } }).operator;
}

/** The resync period the chart installs (values.yaml operator.resyncSeconds): bursts and arrivals are measured with it. */
export const CHART_RESYNC_SECONDS = chartOperator().resyncSeconds;

const PROBE = pathToFileURL(join(import.meta.dirname, 'heap-probe.ts')).href;

/** BENCH_PROFILE_DIR: every operator the benchmark starts writes a V8 CPU profile there when it exits. */
const PROFILE = process.env.BENCH_PROFILE_DIR ? `--cpu-prof --cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}` : '';

/** The Node options every operator under benchmark runs with. */
const OPERATOR_NODE_OPTIONS = `${OPERATOR_HEAP} ${PROFILE}`.trim();

/** The operators' Node options as results record them (the profile directory left out). */
export const RECORDED_NODE_OPTIONS = PROFILE ? `${OPERATOR_HEAP} --cpu-prof` : OPERATOR_HEAP;

/** Starts the operator (resync every `resyncSeconds`, heap-probe.ts loaded) and waits until it is ready. */
export async function startOperator(kubeconfig: string, resyncSeconds: number): Promise<OperatorProcess> {
  const port = await freePort();
  const heapFile = join(mkdtempSync(join(tmpdir(), 'sessionbench-')), 'heap.json');
  const started = performance.now();
  const saved = { NODE_OPTIONS: process.env.NODE_OPTIONS, BENCH_HEAP_FILE: process.env.BENCH_HEAP_FILE };
  process.env.NODE_OPTIONS = `${saved.NODE_OPTIONS ?? ''} ${OPERATOR_NODE_OPTIONS} --import=${PROBE}`.trim();
  process.env.BENCH_HEAP_FILE = heapFile;
  let child: ChildProcess;
  try {
    child = spawnOperator({ kubeconfig, port, args: ['--resync-seconds', String(resyncSeconds)] });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  await waitFor('the operator', async () => (await probe(`http://127.0.0.1:${port}/readyz`)) === 200, 120_000, '', 50);
  return { child, port, readyMs: Math.round(performance.now() - started), heapFile };
}

/** Stops the operator (SIGTERM) and waits until it has exited. */
export async function stopOperator(op: OperatorProcess): Promise<void> {
  const exited = new Promise((r) => op.child.once('exit', r));
  op.child.kill('SIGTERM');
  await exited;
  rmSync(join(op.heapFile, '..'), { recursive: true, force: true });
}

/** User + system CPU seconds of process `pid` so far. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function statusKb(pid: number, field: string): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

/** Peak resident set size of `pid` in MB, since it started or since {@link resetPeakRss}. */
export function peakRssMb(pid: number): number {
  return Math.round(statusKb(pid, 'VmHWM') / 1024);
}

/** Resident set size of `pid` now, in MB (one decimal). */
export function rssMb(pid: number): number {
  return Math.round(statusKb(pid, 'VmRSS') / 102.4) / 10;
}

/**
 * The operator's V8 heap in use, in MB (one decimal), as heap-probe.ts last wrote it; undefined before it wrote,
 * or when the record was read while being written (its two numbers differ).
 */
export function heapUsedMb(op: OperatorProcess): number | undefined {
  try {
    const record = JSON.parse(readFileSync(op.heapFile, 'utf8')) as { seq?: number; end?: number; heapUsed?: number };
    if (record.seq === undefined || record.seq !== record.end || typeof record.heapUsed !== 'number') return undefined;
    return Math.round(record.heapUsed / 104857.6) / 10;
  } catch {
    return undefined;
  }
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

/** The operator's session reconciles so far (controller_runtime_reconcile_total{controller="analysissession"}, all results) and the session queue's depth, unfinished and delayed keys. */
export async function sessionReconciles(port: number): Promise<{ reconciles: number; queued: number }> {
  const text = await operatorMetrics(port);
  const reconciles = sumBy(text, 'controller_runtime_reconcile_total', undefined, { controller: 'analysissession' })[''] ?? 0;
  const queued = ['workqueue_depth', 'workqueue_unfinished_work'].reduce((a, m) => a + (sumBy(text, m, undefined, { name: 'analysissession' })[''] ?? 0), 0);
  return { reconciles, queued };
}

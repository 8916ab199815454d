// SPDX-License-Identifier: Apache-2.0
/**
 * `panalysis cluster up | run | down | env | status`: the local control plane as a
 * background service. `up` starts a detached supervisor (`run`) and returns once the
 * cluster is ready; `down` stops it and every process it started.
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterDir, startLocalCluster } from '../cluster/local-cluster.ts';
import { killFromPidFiles, signalPid, waitPidGone } from '../cluster/supervisor.ts';
import { waitFor } from '../cluster/wait.ts';

interface ClusterInfo {
  server: string;
  kubeconfig: string;
  supervisorPid: number;
  k8sBinDir: string;
}

function readInfo(name: string): ClusterInfo | undefined {
  const file = join(clusterDir(name), 'cluster.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ClusterInfo) : undefined;
}

function isRunning(name: string): boolean {
  const info = readInfo(name);
  return Boolean(info && existsSync(join(clusterDir(name), 'ready')) && signalPid(info.supervisorPid, 0));
}

/** Shell lines that point kubectl at the cluster. */
export function envLines(info: ClusterInfo): string {
  return `export KUBECONFIG=${info.kubeconfig}\nexport PATH=${info.k8sBinDir}:$PATH\n`;
}

/** Runs the cluster in the foreground until SIGINT/SIGTERM. */
export async function runCluster(name: string): Promise<void> {
  const cluster = await startLocalCluster({ name });
  writeFileSync(join(cluster.dir, 'supervisor.pid'), String(process.pid));
  writeFileSync(join(cluster.dir, 'ready'), new Date().toISOString());
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  rmSync(join(cluster.dir, 'ready'), { force: true });
  await cluster.stop();
}

/** Starts the cluster in the background (reusing a running one) and prints its env. */
export async function clusterUp(name: string): Promise<void> {
  if (!isRunning(name)) {
    const dir = clusterDir(name);
    mkdirSync(join(dir, 'logs'), { recursive: true });
    rmSync(join(dir, 'ready'), { force: true });
    rmSync(join(dir, 'cluster.json'), { force: true });
    const logFile = join(dir, 'logs', 'supervisor.log');
    const out = openSync(logFile, 'a');
    const main = fileURLToPath(new URL('./main.ts', import.meta.url));
    const child = spawn(process.execPath, [main, 'cluster', 'run', '--name', name], { detached: true, stdio: ['ignore', out, out] });
    child.unref();
    let exited = false;
    child.once('exit', () => (exited = true));
    await waitFor(`local cluster ${name}`, async () => exited || existsSync(join(dir, 'ready')), 300_000, `see ${logFile}`);
    if (!existsSync(join(dir, 'ready'))) throw new Error(`the local cluster did not start; see ${logFile}`);
  }
  const info = readInfo(name)!;
  console.error(`Local cluster ${name} is running at ${info.server}. Use it with:`);
  process.stdout.write(envLines(info));
}

/** Stops the cluster and every process it started, then removes its state. */
export async function clusterDown(name: string): Promise<void> {
  const dir = clusterDir(name);
  const pidFile = join(dir, 'supervisor.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8'));
    if (signalPid(pid, 'SIGTERM')) await waitPidGone(pid, 30_000);
  }
  await killFromPidFiles(join(dir, 'pids'));
  rmSync(dir, { recursive: true, force: true });
  console.error(`Stopped local cluster ${name}`);
}

/** Prints the env lines of a running cluster, or fails saying how to start it. */
export function clusterEnv(name: string): void {
  const info = readInfo(name);
  if (!info || !isRunning(name)) throw new Error(`local cluster ${name} is not running; start it with 'panalysis cluster up'`);
  process.stdout.write(envLines(info));
}

/** One line: running or not. */
export function clusterStatus(name: string): void {
  const info = readInfo(name);
  console.log(info && isRunning(name) ? `${name}: running at ${info.server}` : `${name}: not running`);
}

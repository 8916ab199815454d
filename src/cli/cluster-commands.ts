// SPDX-License-Identifier: Apache-2.0
/**
 * `panalysis cluster up | run | down | env | status`: the local control plane as a
 * background service. `up` starts a detached supervisor (`run`) and returns once the
 * cluster is ready; `down` stops it and every process it started. `--real-node` adds the real
 * node (containerd + kubelet, see src/cluster/real-node.ts); `down` also removes what that node
 * left on the host, even after the supervisor was killed.
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterDir, startLocalCluster } from '../cluster/local-cluster.ts';
import { cleanupRealNode } from '../cluster/real-node-cleanup.ts';
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

/**
 * Whether the command line asks for the real node: `--real-node` yes, `--no-real-node` (or
 * neither) no. The real node changes the host (cgroups, a bridge, kubelet's sysctls, undone by
 * `cluster down`) and needs root, so `cluster up` starts it only when asked.
 */
export function realNodeFlag(argv: string[]): boolean {
  const last = argv.filter((a) => a === '--real-node' || a === '--no-real-node').at(-1);
  return last === '--real-node';
}

/** Runs the cluster in the foreground until SIGINT/SIGTERM. */
export async function runCluster(name: string, realNode = realNodeFlag(process.argv.slice(2))): Promise<void> {
  const cluster = await startLocalCluster({ name, realNode });
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
export async function clusterUp(name: string, realNode = realNodeFlag(process.argv.slice(2))): Promise<void> {
  if (!isRunning(name)) {
    const dir = clusterDir(name);
    mkdirSync(join(dir, 'logs'), { recursive: true });
    rmSync(join(dir, 'ready'), { force: true });
    rmSync(join(dir, 'cluster.json'), { force: true });
    const logFile = join(dir, 'logs', 'supervisor.log');
    const out = openSync(logFile, 'a');
    const main = fileURLToPath(new URL('./main.ts', import.meta.url));
    const child = spawn(process.execPath, [main, 'cluster', 'run', '--name', name, realNode ? '--real-node' : '--no-real-node'], { detached: true, stdio: ['ignore', out, out] });
    child.unref();
    let exited = false;
    child.once('exit', () => (exited = true));
    // The real node's first start builds its images (minutes, then cached).
    if (realNode) console.error(`panalysis: starting local cluster ${name} with a real node; the first start builds its images (see ${logFile})`);
    await waitFor(`local cluster ${name}`, async () => exited || existsSync(join(dir, 'ready')), realNode ? 1_800_000 : 300_000, `see ${logFile}`);
    if (!existsSync(join(dir, 'ready'))) {
      // The supervisor's last line says why (for the real node: the cause and --no-real-node).
      const last = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').at(-1) : undefined;
      throw new Error(`the local cluster did not start${last ? `: ${last.replace(/^panalysis: /, '')}` : ''}; see ${logFile}`);
    }
  }
  const info = readInfo(name)!;
  console.error(`Local cluster ${name} is running at ${info.server}. Use it with:`);
  process.stdout.write(envLines(info));
}

/**
 * Stops the cluster and every process it started, removes what its real node left on the host
 * (containers, mounts, network namespaces, cgroups, bridge, kubelet's sysctls), then its state.
 * Safe to run twice and after the supervisor was killed.
 * @throws Error listing what could not be removed; the state is then kept so that a second
 * `cluster down` tries again.
 */
export async function clusterDown(name: string): Promise<void> {
  const dir = clusterDir(name);
  const pidFile = join(dir, 'supervisor.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8'));
    if (signalPid(pid, 'SIGTERM')) await waitPidGone(pid, 30_000);
  }
  await killFromPidFiles(join(dir, 'pids'));
  const problems = cleanupRealNode(dir, name);
  if (problems.length) throw new Error(`could not remove everything the real node of ${name} left: ${problems.join('; ')}; run 'panalysis cluster down --name ${name}' again`);
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

// SPDX-License-Identifier: Apache-2.0
/** Runs `panalysis operator` as a real child process for integration tests. */
import type { ChildProcess } from 'node:child_process';
import { afterAll, afterEach, inject } from 'vitest';
import { freePort, probe, waitFor } from '../../src/cluster/wait.ts';
import { DEMO_CONFIG, spawnOperator } from '../../src/operator/spawn.ts';
import { deleteFreshNamespaces } from './cleanup.ts';

export { DEMO_CONFIG };

export interface OperatorProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly logs: string[];
  /** Prometheus samples by `name{labels}`. */
  metrics(): Promise<Record<string, number>>;
  /** Sum of `controller_runtime_kube_writes_total` over all verbs. */
  writes(): Promise<number>;
  leading(): Promise<boolean>;
  /** Sends `signal` and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface OperatorOptions {
  id?: string;
  leaderElect?: boolean;
  leaseNamespace?: string;
  config?: string;
  kubeconfig?: string;
  resyncSeconds?: number;
  /** Wait for /readyz (default true; a standby replica is ready too, it has synced caches). */
  waitReady?: boolean;
}

/** Operators started by this test file and not stopped yet. */
const running = new Set<OperatorProcess>();

/**
 * Stops every operator this file started and left running (the integration set-up file
 * calls it after each file): an operator outliving its file would act on the next file's
 * sessions with its own configuration.
 */
export async function stopLeftoverOperators(): Promise<number> {
  const left = [...running];
  await Promise.all(left.map((p) => p.stop('SIGKILL')));
  return left.length;
}

/**
 * For a file whose tests each start their own operators (restarts, replicas, a killed leader):
 * the operators a test started are killed after it, and at the end the file's namespaces are
 * deleted with a fresh operator (session finalizers need one to let them go).
 */
export function operatorsPerTest(): void {
  afterEach(async () => {
    await stopLeftoverOperators();
  });
  afterAll(async () => {
    const cleaner = await startOperator();
    try {
      await deleteFreshNamespaces();
    } finally {
      await cleaner.stop();
    }
  });
}

/** Starts the operator and waits until its caches are synced. */
export async function startOperator(o: OperatorOptions = {}): Promise<OperatorProcess> {
  const port = await freePort();
  const args = ['--config-poll-ms', '500'];
  if (o.leaderElect) args.push('--leader-elect', '--lease-namespace', o.leaseNamespace ?? 'default');
  if (o.id) args.push('--id', o.id);
  if (o.resyncSeconds) args.push('--resync-seconds', String(o.resyncSeconds));
  const child = spawnOperator({ kubeconfig: o.kubeconfig ?? inject('kubeconfig'), port, config: o.config, args, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  child.stdout!.on('data', (d: Buffer) => logs.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const metrics = async (): Promise<Record<string, number>> => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    const out: Record<string, number> = {};
    for (const line of (await res.text()).split('\n')) {
      const m = /^([a-z_]+(\{[^}]*\})?) ([0-9.e+-]+)$/.exec(line);
      if (m) out[m[1]!] = Number(m[3]);
    }
    return out;
  };
  const proc: OperatorProcess = {
    child, port, logs, metrics,
    writes: async () => Object.entries(await metrics()).filter(([k]) => k.startsWith('controller_runtime_kube_writes_total')).reduce((a, [, v]) => a + v, 0),
    leading: async () => (await metrics())['leader_election_master_status'] === 1,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  running.add(proc);
  void exited.then(() => running.delete(proc));
  if (o.waitReady !== false) {
    await waitFor('the operator to be ready', async () => {
      if (child.exitCode !== null) throw new Error(`operator exited: ${logs.join('')}`);
      return (await probe(`http://127.0.0.1:${port}/readyz`)) === 200;
    }, 30_000);
  }
  return proc;
}

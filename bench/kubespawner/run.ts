// SPDX-License-Identifier: Apache-2.0
/**
 * Runs the JupyterHub + KubeSpawner baseline alone and prints its figures as JSON:
 * `KUBECONFIG=… node bench/kubespawner/run.ts`, sizes from BENCH_SIZES (comma-separated, default
 * 100), each without and with a home PVC per user. BENCH_CONCURRENCY sets the spawn requests in
 * flight (default 16), BENCH_SPAWN_LIMIT JupyterHub's concurrent_spawn_limit (default its own, 100).
 */
import { summarise } from '../stats.ts';
import { KUBESPAWNER_VERSIONS, kubespawnerBurst } from './workload.ts';
import type { HubRun } from './workload.ts';

const kubeconfig = process.env.KUBECONFIG;
if (!kubeconfig) throw new Error('set KUBECONFIG to the cluster to spawn into (e.g. node src/cli/main.ts cluster env)');
const sizes = (process.env.BENCH_SIZES ?? '100').split(',').map(Number);
const concurrency = process.env.BENCH_CONCURRENCY === undefined ? undefined : Number(process.env.BENCH_CONCURRENCY);
const limit = process.env.BENCH_SPAWN_LIMIT === undefined ? undefined : Number(process.env.BENCH_SPAWN_LIMIT);

const summary = (r: HubRun) => {
  const { podCreated, podReady, serverReady, ...rest } = r;
  return { ...rest, podCreatedMs: summarise(podCreated), podReadyMs: summarise(podReady), serverReadyMs: summarise(serverReady) };
};

const runs = [];
let shown = '';
for (const size of sizes) {
  for (const withStorage of [false, true]) {
    const namespace = `hub-${size}-${withStorage ? 'pvc' : 'nopvc'}-${Date.now().toString(36)}`;
    const run = await kubespawnerBurst({
      kubeconfig, namespace, size, withStorage, concurrency, concurrentSpawnLimit: limit,
      onProgress: (created, ready) => {
        const line = `\r${namespace}: ${created} pods, ${ready}/${size} ready `;
        if (line !== shown) process.stderr.write((shown = line));
      },
    });
    process.stderr.write('\n');
    runs.push({ ...summary(run), concurrency: concurrency ?? 16, concurrentSpawnLimit: limit ?? 'JupyterHub default (100)' });
  }
}
console.log(JSON.stringify({ versions: KUBESPAWNER_VERSIONS, runs }, null, 2));

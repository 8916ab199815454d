// SPDX-License-Identifier: Apache-2.0
/**
 * Starts one real local control plane for the integration tests and hands its
 * coordinates to them through vitest's provide/inject.
 */
import type { TestProject } from 'vitest/node';
import { startLocalCluster } from '../../src/cluster/local-cluster.ts';
import type { LocalCluster } from '../../src/cluster/local-cluster.ts';
import { TEST_USERS } from './users.ts';
import { newRunRecords, writeSecurityTable } from './attacks.ts';
import { clusterObjects, reportLeftovers } from './leftovers.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
    kubectl: string;
    etcdUrl: string;
    clusterDir: string;
    userKubeconfigs: Record<string, string>;
  }
}

let cluster: LocalCluster | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const attackRecords = newRunRecords(String(process.pid));
  project.provide('attackRecords', attackRecords);
  const started = Date.now();
  cluster = await startLocalCluster({ name: `it-${process.pid}`, users: TEST_USERS, log: (m) => console.error(`[cluster] ${m}`) });
  console.error(`[cluster] ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  project.provide('kubeconfig', cluster.kubeconfig);
  project.provide('kubectl', cluster.binaries.kubectl);
  project.provide('etcdUrl', cluster.etcdUrl);
  project.provide('clusterDir', cluster.dir);
  project.provide('userKubeconfigs', Object.fromEntries(TEST_USERS.map((u) => [u.name, cluster!.kubeconfigFor(u.name)])));
  const baseline = await clusterObjects(cluster.kubeconfig);
  return async () => {
    await reportLeftovers(cluster!.kubeconfig, baseline);
    writeSecurityTable(attackRecords);
    await cluster?.stop(true);
  };
}

// SPDX-License-Identifier: Apache-2.0
/**
 * Starts one real local control plane for the integration tests and hands its
 * coordinates to them through vitest's provide/inject.
 */
import type { TestProject } from 'vitest/node';
import { startLocalCluster } from '../../src/cluster/local-cluster.ts';
import { ensureImages, SESSION_IMAGES } from '../../src/cluster/images.ts';
import { realNodeSupport } from '../../src/cluster/real-node.ts';
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
    /**
     * The cluster's real node: `ok` with its name, or why there is none. `failed` when this
     * machine can run one but it did not start: the tests that need it fail with `why`.
     */
    realNode: { ok: boolean; name: string; why: string; failed: boolean };
  }
}

let cluster: LocalCluster | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const attackRecords = newRunRecords(String(process.pid));
  project.provide('attackRecords', attackRecords);
  const started = Date.now();
  const support = realNodeSupport();
  const log = (m: string) => console.error(`[cluster] ${m}`);
  let realNode = { ok: false, name: '', why: support.ok ? '' : support.why, failed: false };
  try {
    // The session images, and panalysis itself for the Helm chart's operator on the real node.
    const images = () => ensureImages([...SESSION_IMAGES, 'operator']);
    cluster = await startLocalCluster({ name: `it-${process.pid}`, users: TEST_USERS, realNode: support.ok, images, log });
    if (cluster.realNode) realNode = { ok: true, name: cluster.realNode.name, why: '', failed: false };
  } catch (err) {
    if (!support.ok) throw err;
    // Every other test still runs on the kwok nodes; the real node's tests fail with this reason.
    realNode = { ok: false, name: '', why: `the real node did not start: ${(err as Error).message}`, failed: true };
    log(realNode.why);
    cluster = await startLocalCluster({ name: `it-${process.pid}`, users: TEST_USERS, log });
  }
  project.provide('realNode', realNode);
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

// SPDX-License-Identifier: Apache-2.0
/**
 * What the test files left behind on the shared cluster: namespaces, PersistentVolumes and
 * cluster roles that were not there when the cluster came up. Each file should delete what it
 * made (cleanup.ts); the teardown names what was left, so a leak that could let the order of
 * files change a result shows in the output.
 */
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';

/** Names of the cluster-wide objects now: `Namespace/x`, `PersistentVolume/y`, `ClusterRole/z`, `ClusterRoleBinding/w`. */
export async function clusterObjects(kubeconfig: string): Promise<Set<string>> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const [ns, pvs, roles, bindings] = await Promise.all([core.listNamespace(), core.listPersistentVolume(), rbac.listClusterRole(), rbac.listClusterRoleBinding()]);
  return new Set([
    ...ns.items.filter((n) => n.status?.phase !== 'Terminating').map((n) => `Namespace/${n.metadata!.name}`),
    ...ns.items.filter((n) => n.status?.phase === 'Terminating').map((n) => `Namespace/${n.metadata!.name} (terminating)`),
    ...pvs.items.map((p) => `PersistentVolume/${p.metadata!.name}`),
    ...roles.items.map((r) => `ClusterRole/${r.metadata!.name}`),
    ...bindings.items.map((b) => `ClusterRoleBinding/${b.metadata!.name}`),
  ]);
}

/** The objects of `now` that are not in `baseline`, sorted. */
export function leftovers(baseline: ReadonlySet<string>, now: ReadonlySet<string>): string[] {
  return [...now].filter((x) => !baseline.has(x)).sort();
}

/** Prints what the test files left behind since `baseline`, if anything; never throws. */
export async function reportLeftovers(kubeconfig: string, baseline: ReadonlySet<string>): Promise<void> {
  try {
    const left = leftovers(baseline, await clusterObjects(kubeconfig));
    if (left.length > 0) console.error(`[cleanup] left behind by the test files (${left.length}): ${left.join(', ')}`);
  } catch (err) {
    console.error(`[cleanup] could not list what was left behind: ${(err as Error).message}`);
  }
}

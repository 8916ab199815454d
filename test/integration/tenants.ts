// SPDX-License-Identifier: Apache-2.0
/**
 * Helpers for tenant isolation tests: proposal namespaces with role grants, kubectl as a
 * test user, and snapshots of a session's children to show that an attack changed nothing.
 */
import { spawn } from 'node:child_process';
import { NetworkingV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { inject } from 'vitest';
import { core, freshNamespace, kubeConfig, waitFor } from './helpers.ts';
import { isGone } from './gone.ts';

export { isGone };

/** The proposal of the operator's demo configuration; alice and bob are members, carol is not. */
export const PROPOSAL = '20231234';

/**
 * A fresh namespace of {@link PROPOSAL} (so the proposal-namespace policy guards it), where each
 * user is bound to the given ClusterRoles (`panalysis-portal`, `panalysis-admin`, `view`, `edit`);
 * `labels` add to (or replace) the namespace's labels, e.g. another proposal.
 */
export async function proposalNamespace(prefix: string, grants: Record<string, string[]>, labels: Record<string, string> = {}): Promise<string> {
  const ns = await freshNamespace(prefix, { 'panalysis.io/proposal': PROPOSAL, ...labels });
  await grantRoles(ns, grants);
  return ns;
}

/** Binds each user in `ns` to the given ClusterRoles (`panalysis-portal`, `panalysis-admin`, `view`, `edit`). */
export async function grantRoles(ns: string, grants: Record<string, string[]>): Promise<void> {
  const rbac = kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  for (const [user, roles] of Object.entries(grants)) {
    for (const role of roles) {
      await rbac.createNamespacedRoleBinding({
        namespace: ns,
        body: {
          metadata: { name: `${user}-${role}` },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
          subjects: [{ kind: 'User', name: user, apiGroup: 'rbac.authorization.k8s.io' }],
        },
      });
    }
  }
}

/** The outcome of one kubectl run. */
export interface KubectlResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/**
 * Runs the cluster's kubectl as `user` (a test user, or `admin`), with `stdin` as its input;
 * never throws on a refusal.
 */
export function kubectlAs(user: string, args: string[], stdin = ''): Promise<KubectlResult> {
  const kubeconfig = user === 'admin' ? inject('kubeconfig') : inject('userKubeconfigs')[user]!;
  return new Promise((resolve, reject) => {
    const child = spawn(inject('kubectl'), args, { env: { ...process.env, KUBECONFIG: kubeconfig } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ ok: code === 0, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** `kubectl create -f -` of `obj` in `ns` as `user`. */
export const kubectlCreate = (user: string, ns: string, obj: unknown): Promise<KubectlResult> =>
  kubectlAs(user, ['create', '-n', ns, '-f', '-'], JSON.stringify(obj));

const networking = () => kubeConfig().makeApiClient(NetworkingV1Api);

/** Readers of the children of session `name`, by kind (the NetworkPolicy is the namespace's: {@link namespacePolicy}). */
export function childReaders(ns: string, name: string) {
  return {
    pod: () => core().readNamespacedPod({ namespace: ns, name }),
    secret: () => core().readNamespacedSecret({ namespace: ns, name: `${name}-credentials` }),
    homeClaim: () => core().readNamespacedPersistentVolumeClaim({ namespace: ns, name: `${name}-home` }),
  };
}

/** Reads the NetworkPolicy of the sessions of `ns` (one per namespace, controlled by the Namespace). */
export const namespacePolicy = (ns: string) => networking().readNamespacedNetworkPolicy({ namespace: ns, name: 'panalysis-sessions' });

/** Waits until every child of session `name` answers 404. */
export async function waitChildrenGone(ns: string, name: string): Promise<void> {
  for (const [kind, read] of Object.entries(childReaders(ns, name))) {
    await waitFor(`${kind} of session ${ns}/${name} to be deleted`, () => isGone(read), 60_000);
  }
}

/**
 * What an attack on session `name` must not change: the identity (UID) of each child and the
 * fields that decide who reaches what (pod volumes, Secret data, policy rules,
 * the claim's volume).
 */
export async function snapshotChildren(ns: string, name: string): Promise<Record<string, unknown>> {
  const [pod, secret, np, claim] = await Promise.all([
    core().readNamespacedPod({ namespace: ns, name }),
    core().readNamespacedSecret({ namespace: ns, name: `${name}-credentials` }),
    namespacePolicy(ns),
    core().readNamespacedPersistentVolumeClaim({ namespace: ns, name: `${name}-home` }),
  ]);
  return {
    pod: { uid: pod.metadata?.uid, volumes: pod.spec?.volumes, deleting: Boolean(pod.metadata?.deletionTimestamp) },
    secret: { uid: secret.metadata?.uid, data: secret.data },
    networkPolicy: { uid: np.metadata?.uid, spec: np.spec },
    homeClaim: { uid: claim.metadata?.uid, volumeName: claim.spec?.volumeName, phase: claim.status?.phase },
  };
}

// SPDX-License-Identifier: Apache-2.0
/**
 * Helpers for the ownership tests: an operator configuration the test can edit, kubectl as
 * a test user, 404 checks, and what a session's children look like (to show an attack
 * changed nothing).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetworkingV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { inject } from 'vitest';
import { parse, stringify } from 'yaml';
import { core, freshNamespace, kubeConfig } from './helpers.ts';
import { DEMO_CONFIG } from './operator.ts';

/** The demo configuration in a file of its own; `write()` saves changes to `config` (the operator reloads it). */
export function editableConfig(): { file: string; config: Record<string, any>; write(): void } {
  const file = join(mkdtempSync(join(tmpdir(), 'panalysis-ownership-')), 'operator.yaml');
  const config = parse(readFileSync(DEMO_CONFIG, 'utf8')) as Record<string, any>;
  const write = () => writeFileSync(file, stringify(config));
  write();
  return { file, config, write };
}

/** A proposal namespace (restricted Pod Security) where each user is bound to the given ClusterRoles. */
export async function proposalNamespace(prefix: string, proposal: string, grants: Record<string, string[]>): Promise<string> {
  const ns = await freshNamespace(prefix, { 'panalysis.io/proposal': proposal, 'pod-security.kubernetes.io/enforce': 'restricted' });
  const rbac = kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  for (const [user, roles] of Object.entries(grants)) {
    for (const role of roles) {
      await rbac.createNamespacedRoleBinding({
        namespace: ns,
        body: { metadata: { name: `${user}-${role}` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role }, subjects: [{ kind: 'User', name: user, apiGroup: 'rbac.authorization.k8s.io' }] },
      });
    }
  }
  return ns;
}

/** Runs kubectl as `user` (a test user, or `admin`); never throws on a refusal. */
export function kubectlAs(user: string, args: string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  const kubeconfig = user === 'admin' ? inject('kubeconfig') : inject('userKubeconfigs')[user]!;
  return new Promise((resolve, reject) => {
    const child = spawn(inject('kubectl'), args, { env: { ...process.env, KUBECONFIG: kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ ok: code === 0, stdout, stderr }));
  });
}

/** True once `read` answers 404; false while the object exists; any other error is thrown. */
export async function isGone(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return false;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return true;
    throw err;
  }
}

export const networking = () => kubeConfig().makeApiClient(NetworkingV1Api);

/** Reads of session `name`'s children by kind. */
export function children(ns: string, name: string) {
  return {
    pod: () => core().readNamespacedPod({ namespace: ns, name }),
    service: () => core().readNamespacedService({ namespace: ns, name }),
    secret: () => core().readNamespacedSecret({ namespace: ns, name: `${name}-credentials` }),
    networkPolicy: () => networking().readNamespacedNetworkPolicy({ namespace: ns, name }),
    homeClaim: () => core().readNamespacedPersistentVolumeClaim({ namespace: ns, name: `${name}-home` }),
  };
}

/** The identity (UID) of a running session's children and what decides who reaches what. */
export async function snapshot(ns: string, name: string): Promise<Record<string, unknown>> {
  const c = children(ns, name);
  const [pod, svc, secret, np, claim] = await Promise.all([c.pod(), c.service(), c.secret(), c.networkPolicy(), c.homeClaim()]);
  return {
    pod: { uid: pod.metadata?.uid, volumes: pod.spec?.volumes, deleting: Boolean(pod.metadata?.deletionTimestamp) },
    service: { uid: svc.metadata?.uid, selector: svc.spec?.selector },
    secret: { uid: secret.metadata?.uid, data: secret.data },
    networkPolicy: { uid: np.metadata?.uid, spec: np.spec },
    homeClaim: { uid: claim.metadata?.uid, owners: claim.metadata?.ownerReferences, labels: claim.metadata?.labels },
  };
}

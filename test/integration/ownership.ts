// SPDX-License-Identifier: Apache-2.0
/**
 * Helpers for the ownership tests: an operator configuration the test can edit, kubectl as
 * a test user, 404 checks, and what a session's children look like (to show an attack
 * changed nothing).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetworkingV1Api } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { kubeConfig } from './helpers.ts';
import { isGone } from './gone.ts';
import { childReaders, kubectlAs, namespacePolicy, proposalNamespace as tenantNamespace } from './tenants.ts';

export { isGone, kubectlAs };
import { DEMO_CONFIG } from './operator.ts';

/** The demo configuration in a file of its own; `write()` saves changes to `config` (the operator reloads it). */
export function editableConfig(): { file: string; config: Record<string, any>; write(): void } {
  const file = join(mkdtempSync(join(tmpdir(), 'panalysis-ownership-')), 'operator.yaml');
  const config = parse(readFileSync(DEMO_CONFIG, 'utf8')) as Record<string, any>;
  const write = () => writeFileSync(file, stringify(config));
  write();
  return { file, config, write };
}

/** A namespace of `proposal` (restricted Pod Security) where each user is bound to the given ClusterRoles. */
export function proposalNamespace(prefix: string, proposal: string, grants: Record<string, string[]>): Promise<string> {
  return tenantNamespace(prefix, grants, { 'panalysis.io/proposal': proposal, 'pod-security.kubernetes.io/enforce': 'restricted' });
}

export const networking = () => kubeConfig().makeApiClient(NetworkingV1Api);

/** Reads of session `name`'s children by kind. */
export const children = childReaders;

/** The identity (UID) of a running session's children and what decides who reaches what. */
export async function snapshot(ns: string, name: string): Promise<Record<string, unknown>> {
  const c = children(ns, name);
  const [pod, secret, np, claim] = await Promise.all([c.pod(), c.secret(), namespacePolicy(ns), c.homeClaim()]);
  return {
    pod: { uid: pod.metadata?.uid, volumes: pod.spec?.volumes, deleting: Boolean(pod.metadata?.deletionTimestamp) },
    secret: { uid: secret.metadata?.uid, data: secret.data },
    networkPolicy: { uid: np.metadata?.uid, spec: np.spec },
    homeClaim: { uid: claim.metadata?.uid, owners: claim.metadata?.ownerReferences, labels: claim.metadata?.labels },
  };
}

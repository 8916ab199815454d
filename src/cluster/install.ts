// SPDX-License-Identifier: Apache-2.0
/** Puts the first objects into a fresh local cluster: nodes and the panalysis CRDs. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiextensionsV1Api, AuthenticationV1Api, CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import type { KubeObject } from '../runtime/resource.ts';
import { parseAllDocuments } from 'yaml';
import { kubeClientFromConfig } from '../runtime/kube.ts';
import { REPO_ROOT } from './binaries.ts';
import { buildNodes } from './nodes.ts';
import type { NodeLayout } from './nodes.ts';
import { waitFor } from './wait.ts';

/** Field manager of objects the local cluster tooling writes. */
export const INSTALLER_FIELD_MANAGER = 'panalysis-installer';

function kubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

/** Creates the kwok Nodes of `layout`; existing ones are kept. */
export async function createNodes(kubeconfig: string, layout: NodeLayout): Promise<void> {
  const core = kubeConfig(kubeconfig).makeApiClient(CoreV1Api);
  for (const node of buildNodes(layout)) {
    try {
      await core.createNode({ body: node });
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
    }
  }
}

/**
 * The default StorageClass of a local cluster: the controller manager's own host-path provisioner
 * (`--enable-hostpath-provisioner`, directories under /tmp of the machine) provisions its claims and its volume
 * binder binds them, concurrently, as a CSI provisioner with many workers would. (kwok's volume stages play one
 * claim at a time, which made the emulation, not the operator, the limit of a burst of claims.)
 */
export const LOCAL_STORAGE_CLASS = {
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
  provisioner: 'kubernetes.io/host-path',
  reclaimPolicy: 'Delete',
  volumeBindingMode: 'Immediate',
};

/** Waits until every kwok node reports Ready. */
export async function waitNodesReady(kubeconfig: string, timeoutMs: number, hint: string): Promise<void> {
  const core = kubeConfig(kubeconfig).makeApiClient(CoreV1Api);
  await waitFor('kwok nodes to become Ready', async () => {
    const nodes = await core.listNode({ labelSelector: 'type=kwok' });
    return nodes.items.length > 0 && nodes.items.every((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  }, timeoutMs, hint);
}

/** Every object of every YAML file in `dir`, in file order. */
export function readManifests(dir: string): KubeObject[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as KubeObject))
    .filter((o) => o && o.kind);
}

/** Server-side applies `objects` with our installer field manager. */
export async function applyObjects(kubeconfig: string, objects: KubeObject[]): Promise<void> {
  const client = kubeClientFromConfig(kubeConfig(kubeconfig));
  for (const obj of objects) await client.apply(obj, { fieldManager: INSTALLER_FIELD_MANAGER });
}

/** Cluster-wide objects of the install manifest that a local cluster gets with the CRDs. */
const PLATFORM_KINDS = new Set(['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
const USER_ROLES = new Set(['panalysis-portal', 'panalysis-admin', 'panalysis-viewer']);
/** The policy that lets only the operator write pods, claims, Services, NetworkPolicies and Secrets in proposal namespaces. */
export const PROPOSAL_NAMESPACE_POLICY = 'panalysis-proposal-namespace';

/**
 * The platform objects of the install manifest, for an operator that runs as `operatorUser`
 * rather than as the chart's ServiceAccount: the proposal-namespace policy gets one more match
 * condition that leaves that user's requests alone (match conditions must all hold), so a
 * locally run operator can write its children in proposal namespaces. Pure: copies `all`.
 */
export function platformObjects(all: KubeObject[], operatorUser: string): KubeObject[] {
  const wanted = structuredClone(all).filter((o) => PLATFORM_KINDS.has(o.kind!) || (o.kind === 'ClusterRole' && USER_ROLES.has(o.metadata?.name ?? '')));
  for (const o of wanted) {
    delete o.metadata?.labels?.['app.kubernetes.io/instance'];
    if (o.kind === 'ValidatingAdmissionPolicy' && o.metadata?.name === PROPOSAL_NAMESPACE_POLICY) {
      const spec = (o as { spec: { matchConditions?: Array<{ name: string; expression: string }> } }).spec;
      spec.matchConditions = [...(spec.matchConditions ?? []), { name: 'not-the-local-operator', expression: `request.userInfo.username != ${JSON.stringify(operatorUser)}` }];
    }
  }
  return wanted;
}

/**
 * Applies the admission policies and the user ClusterRoles from manifests/install.yaml
 * (the chart rendered with default values), as an installed product has them, for an
 * operator that runs with `kubeconfig`'s identity (see {@link platformObjects}).
 */
export async function installPlatform(kubeconfig: string): Promise<void> {
  const all = parseAllDocuments(readFileSync(join(REPO_ROOT, 'manifests', 'install.yaml'), 'utf8')).map((d) => d.toJS() as KubeObject).filter((o) => o?.kind);
  const review = await kubeConfig(kubeconfig).makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
  const user = review.status?.userInfo?.username;
  if (!user) throw new Error('installing the admission policies: the apiserver did not say who the kubeconfig user is (SelfSubjectReview)');
  const objects = platformObjects(all, user);
  await applyObjects(kubeconfig, objects);
  await waitAggregated(kubeconfig, objects);
}

/**
 * Waits until the built-in `view` ClusterRole carries the rules of the roles that aggregate into it
 * (`panalysis-viewer`): the controller manager aggregates them a moment after they are applied, and a
 * scientist bound to `view` could not read sessions until then.
 */
async function waitAggregated(kubeconfig: string, objects: KubeObject[]): Promise<void> {
  const aggregated = objects.filter((o) => o.kind === 'ClusterRole' && o.metadata?.labels?.['rbac.authorization.k8s.io/aggregate-to-view'] === 'true');
  const wanted = aggregated.flatMap((o) => ((o as { rules?: Array<{ resources?: string[] }> }).rules ?? []).flatMap((r) => r.resources ?? []));
  if (wanted.length === 0) return;
  const rbac = kubeConfig(kubeconfig).makeApiClient(RbacAuthorizationV1Api);
  await waitFor('the view ClusterRole to aggregate panalysis-viewer', async () => {
    const view = await rbac.readClusterRole({ name: 'view' });
    const has = new Set((view.rules ?? []).flatMap((r) => r.resources ?? []));
    return wanted.every((r) => has.has(r));
  }, 60_000);
}

/** Applies crds/*.yaml and waits until each CRD is Established. */
export async function installCrds(kubeconfig: string): Promise<void> {
  const crds = readManifests(join(REPO_ROOT, 'crds'));
  await applyObjects(kubeconfig, crds);
  const api = kubeConfig(kubeconfig).makeApiClient(ApiextensionsV1Api);
  for (const crd of crds) {
    await waitFor(`CRD ${crd.metadata?.name} to be established`, async () => {
      const live = await api.readCustomResourceDefinition({ name: crd.metadata!.name! });
      return Boolean(live.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'));
    }, 30_000);
  }
}

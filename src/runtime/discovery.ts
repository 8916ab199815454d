// SPDX-License-Identifier: Apache-2.0
import type { KubeTransport } from './kube-http.ts';
import type { ResourceType } from './resource.ts';

/** Finds the REST resource (plural, scope) of an apiVersion and kind. */
export interface ResourceResolver {
  /** The resource of `kind` in `apiVersion`; rejects when the server does not serve it. */
  resolve(apiVersion: string, kind: string): Promise<ResourceType>;
  /** Adds or overrides a mapping (e.g. our CRDs, so they need no discovery call). */
  register(type: ResourceType): void;
}

const core = (kind: string, plural: string, namespaced = true): ResourceType => ({ apiVersion: 'v1', kind, plural, namespaced });
const of = (apiVersion: string, kind: string, plural: string, namespaced = true): ResourceType => ({
  apiVersion,
  kind,
  plural,
  namespaced,
});

/** Built-in kinds an operator commonly writes; anything else is discovered. */
export const BUILTIN_RESOURCES: readonly ResourceType[] = [
  core('Pod', 'pods'),
  core('Service', 'services'),
  core('ConfigMap', 'configmaps'),
  core('Secret', 'secrets'),
  core('ServiceAccount', 'serviceaccounts'),
  core('PersistentVolumeClaim', 'persistentvolumeclaims'),
  core('PersistentVolume', 'persistentvolumes', false),
  core('Namespace', 'namespaces', false),
  core('Node', 'nodes', false),
  core('Event', 'events'),
  core('ResourceQuota', 'resourcequotas'),
  core('LimitRange', 'limitranges'),
  of('apps/v1', 'Deployment', 'deployments'),
  of('apps/v1', 'StatefulSet', 'statefulsets'),
  of('batch/v1', 'Job', 'jobs'),
  of('networking.k8s.io/v1', 'NetworkPolicy', 'networkpolicies'),
  of('networking.k8s.io/v1', 'Ingress', 'ingresses'),
  of('rbac.authorization.k8s.io/v1', 'Role', 'roles'),
  of('rbac.authorization.k8s.io/v1', 'RoleBinding', 'rolebindings'),
  of('rbac.authorization.k8s.io/v1', 'ClusterRole', 'clusterroles', false),
  of('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'clusterrolebindings', false),
  of('coordination.k8s.io/v1', 'Lease', 'leases'),
  of('events.k8s.io/v1', 'Event', 'events'),
  of('policy/v1', 'PodDisruptionBudget', 'poddisruptionbudgets'),
  of('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'customresourcedefinitions', false),
];

interface DiscoveredResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

/**
 * A resolver over a fixed table plus API discovery (`GET /api/v1`, `GET /apis/<group>/<version>`).
 *
 * Guarantees: one discovery call per group-version while its kinds are found; a kind that is missing is looked
 * up again on the next call (a CRD may have been installed meanwhile). Subresources are never returned.
 * Caveats: without a transport, only the table and registered kinds resolve.
 */
export function createResourceResolver(
  transport: KubeTransport | undefined,
  known: readonly ResourceType[] = BUILTIN_RESOURCES,
): ResourceResolver {
  const table = new Map<string, ResourceType>(known.map((t) => [`${t.apiVersion}/${t.kind}`, t]));
  const discover = async (apiVersion: string): Promise<void> => {
    if (!transport) return;
    const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const list = await transport.request<{ resources?: DiscoveredResource[] }>({ method: 'GET', path });
    for (const r of list.resources ?? []) {
      if (r.name.includes('/')) continue;
      table.set(`${apiVersion}/${r.kind}`, { apiVersion, kind: r.kind, plural: r.name, namespaced: r.namespaced });
    }
  };
  return {
    async resolve(apiVersion, kind) {
      const key = `${apiVersion}/${kind}`;
      if (!table.has(key)) await discover(apiVersion);
      const type = table.get(key);
      if (!type) throw new Error(`Unknown kind ${kind} in ${apiVersion}`);
      return type;
    },
    register(type) {
      table.set(`${type.apiVersion}/${type.kind}`, type);
    },
  };
}

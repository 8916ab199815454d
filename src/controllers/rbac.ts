// SPDX-License-Identifier: Apache-2.0
/**
 * The API access each part of the operator needs, declared next to the code and
 * rendered into the Helm chart's ClusterRole by `npm run gen` (drift-checked in CI).
 * Least privilege: no wildcard, no `escalate`, `bind` or `impersonate`.
 */
import { GROUP } from '../api/v1alpha1/group.ts';

/** One RBAC PolicyRule. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const READ = ['get', 'list', 'watch'];
const OWN = [...READ, 'create', 'patch', 'update', 'delete'];

/** The session controller: our kinds, and the children it owns. */
export const sessionControllerRules: PolicyRule[] = [
  { apiGroups: [GROUP], resources: ['analysissessions'], verbs: [...READ, 'patch', 'update'] },
  { apiGroups: [GROUP], resources: ['analysissessions/status'], verbs: ['get', 'patch', 'update'] },
  { apiGroups: [GROUP], resources: ['analysissessions/finalizers'], verbs: ['update'] },
  { apiGroups: [''], resources: ['pods', 'services', 'secrets', 'persistentvolumeclaims'], verbs: OWN },
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: OWN },
];

/** The DatasetMount controller: static volumes and their claims. */
export const datasetControllerRules: PolicyRule[] = [
  { apiGroups: [GROUP], resources: ['datasetmounts'], verbs: [...READ, 'patch', 'update'] },
  { apiGroups: [GROUP], resources: ['datasetmounts/status'], verbs: ['get', 'patch', 'update'] },
  { apiGroups: [GROUP], resources: ['datasetmounts/finalizers'], verbs: ['update'] },
  { apiGroups: [''], resources: ['persistentvolumes'], verbs: OWN },
  { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: OWN },
];

/** Shared by every controller: Events, and namespaces (proposal labels). */
export const commonRules: PolicyRule[] = [
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch', 'update'] },
  { apiGroups: [''], resources: ['namespaces'], verbs: READ },
];

/** Leader election, granted by a Role in the operator's own namespace only. */
export const leaderElectionRules: PolicyRule[] = [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] }];

/** Every cluster-wide rule of the operator, merged per (apiGroups, resources). */
export function operatorClusterRules(): PolicyRule[] {
  const merged = new Map<string, PolicyRule>();
  for (const rule of [...sessionControllerRules, ...datasetControllerRules, ...commonRules]) {
    const key = JSON.stringify([rule.apiGroups, rule.resources]);
    const existing = merged.get(key);
    merged.set(key, existing ? { ...existing, verbs: [...new Set([...existing.verbs, ...rule.verbs])] } : { ...rule, verbs: [...rule.verbs] });
  }
  return [...merged.values()];
}

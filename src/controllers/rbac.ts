// SPDX-License-Identifier: Apache-2.0
/**
 * The API access each part of the operator needs, declared next to the code and
 * rendered into the Helm chart by `npm run gen` (drift-checked in CI), with the feature
 * that needs each rule.
 *
 * Least privilege:
 * - Cluster-wide the operator reads what it watches and writes only its own kinds,
 *   Events and PersistentVolumes. It has no right on Secrets outside proposal namespaces,
 *   and no write right on Pods, claims or NetworkPolicies anywhere but there. It needs no
 *   right on Services: a session has none (the gateway connects to the pod's IP).
 * - In a proposal namespace it gets {@link namespacedRules} through a RoleBinding to the
 *   ClusterRole `panalysis-operator-namespaced`, which the admin creates with the namespace
 *   (or lists in the chart's `rbac.proposalNamespaces`). The operator does not create these
 *   bindings itself: that would need `create` on RoleBindings in every namespace, and with
 *   `bind` on this role it could then give itself these rights in any namespace, which is
 *   what the split is meant to prevent.
 * - Quotas: the operator never updates a quota's spec (a namespace's own quota wins and
 *   is never overwritten); it creates and deletes only the facility default. Usage
 *   records cannot be updated or deleted by it.
 * - PersistentVolumes are cluster-scoped and RBAC cannot select them by label; `create`
 *   cannot be limited by name either. The residual rule is write access to all PVs. The
 *   DatasetMount controller compensates: it writes or deletes a PV only when the PV's
 *   `panalysis.io/dataset-uid` label carries the DatasetMount's UID, deletes with a UID
 *   precondition, and never writes over a PV that exists under its name without that UID.
 * No wildcard, no `escalate`, `bind` or `impersonate`.
 */
import { GROUP } from '../api/v1alpha1/group.ts';

/** One RBAC PolicyRule, with the feature that needs it (rendered as a comment and in docs). */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  /** The feature that needs this rule. */
  why?: string;
}

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'patch', 'update', 'delete'];

/** Kinds the operator watches per proposal namespace, never cluster-wide (the manager's `namespaceScoped`). */
export const NAMESPACE_SCOPED_PLURALS = ['secrets'] as const;

/** Cluster-wide rules of the session controller: its kind, and reads of the children it watches. */
export const sessionControllerRules: PolicyRule[] = [
  { apiGroups: [GROUP], resources: ['analysissessions'], verbs: [...READ, 'patch', 'update'], why: 'Session controller: watch sessions, add and remove its finalizer.' },
  { apiGroups: [GROUP], resources: ['analysissessions/status'], verbs: ['get', 'patch', 'update'], why: 'Session controller: report phase, conditions and URL.' },
  { apiGroups: [GROUP], resources: ['analysissessions/finalizers'], verbs: ['update'], why: 'Session controller: owner references that block deletion of children.' },
  { apiGroups: [''], resources: ['pods', 'persistentvolumeclaims'], verbs: READ, why: 'Session controller: watch its children (label-selected); DatasetMount controller: claims of pvc sources, pods that still mount a dataset.' },
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: READ, why: 'Session controller: watch the NetworkPolicy of each namespace\'s sessions (label-selected).' },
  { apiGroups: ['storage.k8s.io'], resources: ['storageclasses'], verbs: READ, why: 'Session controller: whether a home claim binds before its pod exists (the pod is created once such a claim is bound).' },
];

/** Cluster-wide rules of the DatasetMount controller. */
export const datasetControllerRules: PolicyRule[] = [
  { apiGroups: [GROUP], resources: ['datasetmounts'], verbs: [...READ, 'patch', 'update'], why: 'DatasetMount controller: watch DatasetMounts, add and remove its finalizer.' },
  { apiGroups: [GROUP], resources: ['datasetmounts/status'], verbs: ['get', 'patch', 'update'], why: 'DatasetMount controller: report Ready, Bound, Writable.' },
  { apiGroups: [GROUP], resources: ['datasetmounts/finalizers'], verbs: ['update'], why: 'DatasetMount controller: the claim\'s owner reference blocks deletion.' },
  {
    apiGroups: [''], resources: ['persistentvolumes'], verbs: [...READ, 'create', 'patch', 'delete'],
    why: 'DatasetMount controller: the static volume of each DatasetMount. Residual: RBAC cannot limit PVs by label, so only PVs carrying the DatasetMount\'s UID label are ever written or deleted (UID precondition).',
  },
];

/**
 * Cluster-wide rules of the quota controller. It creates a quota only where a proposal
 * namespace has none (the facility default) and deletes only that written default; the
 * ledger in the status is written with a resourceVersion precondition; usage records are
 * created, never changed (the CRD refuses it) and never deleted (they go with the namespace).
 */
export const quotaControllerRules: PolicyRule[] = [
  {
    apiGroups: [GROUP], resources: ['resourcequotas'], verbs: [...READ, 'create', 'delete'],
    why: 'Quota controller: watch quotas; write the facility default quota into proposal namespaces that have none, and remove that written default when the namespace gets its own.',
  },
  { apiGroups: [GROUP], resources: ['resourcequotas/status'], verbs: ['get', 'update', 'patch'], why: 'Quota controller: the admission ledger, written with compare-and-swap (resourceVersion precondition).' },
  { apiGroups: [GROUP], resources: ['usagerecords'], verbs: [...READ, 'create'], why: 'Quota controller: one immutable usage record per finished session run; a rebuild of the ledger lists them.' },
];

/** Shared by every controller: Events, and namespaces (proposal labels). */
export const commonRules: PolicyRule[] = [
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch', 'update'], why: 'All controllers: Events on sessions, DatasetMounts and quotas.' },
  { apiGroups: [''], resources: ['namespaces'], verbs: READ, why: 'All controllers: the panalysis.io/proposal label; the namespaces whose Secrets are watched.' },
];

/**
 * Rules in each proposal namespace only (ClusterRole `<release>-operator-namespaced`,
 * bound there by a RoleBinding).
 */
export const namespacedRules: PolicyRule[] = [
  { apiGroups: [''], resources: ['secrets'], verbs: [...READ, ...WRITE], why: 'Session controller: the session\'s credentials Secret (watched per proposal namespace, never cluster-wide).' },
  { apiGroups: [''], resources: ['pods'], verbs: WRITE, why: 'Session controller: the session pod (the gateway connects to its IP).' },
  { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: WRITE, why: 'Session controller: home claims; DatasetMount controller: dataset claims.' },
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: WRITE, why: 'Session controller: one NetworkPolicy per namespace for its sessions (ingress from the gateway only, egress as configured).' },
];

/** Leader election, granted by a Role in the operator's own namespace only. */
export const leaderElectionRules: PolicyRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'], why: 'Leader election: the operator\'s Lease in its own namespace.' },
];

/** The API server's addresses, granted by a Role in `default` only. */
export const apiserverEndpointRules: PolicyRule[] = [
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'], why: 'Session egress: the kubernetes Service\'s EndpointSlices in default, excepted from egress (network.egress.excludeApiserver).' },
];

/** `rules` merged per (apiGroups, resources), verbs in first-seen order; `why`s joined. */
function merge(rules: readonly PolicyRule[]): PolicyRule[] {
  const merged = new Map<string, PolicyRule>();
  for (const rule of rules) {
    const key = JSON.stringify([rule.apiGroups, rule.resources]);
    const existing = merged.get(key);
    merged.set(key, existing
      ? { ...existing, verbs: [...new Set([...existing.verbs, ...rule.verbs])], why: [existing.why, rule.why].filter(Boolean).join(' ') }
      : { ...rule, verbs: [...rule.verbs] });
  }
  return [...merged.values()];
}

/** Every cluster-wide rule of the operator, merged per (apiGroups, resources). */
export function operatorClusterRules(): PolicyRule[] {
  return merge([...sessionControllerRules, ...datasetControllerRules, ...quotaControllerRules, ...commonRules]);
}

/** The rules of the per-proposal-namespace role, merged per (apiGroups, resources). */
export function operatorNamespacedRules(): PolicyRule[] {
  return merge(namespacedRules);
}

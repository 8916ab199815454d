// SPDX-License-Identifier: Apache-2.0
/**
 * The API access of `panalysis gateway`, declared next to its watches (session-index.ts,
 * run.ts) and rendered into the Helm chart by `npm run gen` (drift-checked in CI), with
 * the feature that needs each rule.
 *
 * Least privilege:
 * - The gateway only reads: it records nothing in the cluster, so it has no write verb
 *   anywhere (no Events, no Leases: every replica serves, none leads).
 * - Cluster-wide it reads AnalysisSessions, the session pods (label-selected, for their
 *   IPs) and the proposal namespaces (label-selected, the namespaces whose Secrets it
 *   watches).
 * - Secrets, which hold every session's Jupyter token or VNC password, are read only in
 *   proposal namespaces, through a RoleBinding there to the ClusterRole
 *   `panalysis-gateway-namespaced` (the chart's `rbac.proposalNamespaces`, or the admin's
 *   RoleBinding made with the namespace), exactly as the operator's namespaced role is bound.
 * No wildcard, no `escalate`, `bind` or `impersonate`.
 */
import { GROUP } from '../api/v1alpha1/group.ts';
import type { PolicyRule } from '../controllers/rbac.ts';

const READ = ['get', 'list', 'watch'];

/** Kinds the gateway watches per proposal namespace, never cluster-wide (run.ts, `namespaceScoped`). */
export const GATEWAY_NAMESPACE_SCOPED_PLURALS = ['secrets'] as const;

/** Cluster-wide reads of the gateway (ClusterRole `<release>-gateway`). */
export const gatewayClusterRules: readonly PolicyRule[] = [
  { apiGroups: [GROUP], resources: ['analysissessions'], verbs: [...READ, 'patch'], why: 'Gateway: the sessions it serves (owner, shared-with, phase, host label); patch only for the panalysis.io/last-activity annotation, at most once a minute per session (src/gateway/activity.ts).' },
  { apiGroups: [''], resources: ['pods'], verbs: READ, why: 'Gateway: the session pods (label-selected), whose pod IP it connects to.' },
  { apiGroups: [''], resources: ['namespaces'], verbs: READ, why: 'Gateway: the panalysis.io/proposal label; the namespaces whose Secrets are watched.' },
];

/**
 * Rules in each proposal namespace only (ClusterRole `<release>-gateway-namespaced`,
 * bound there by a RoleBinding).
 */
export const gatewayNamespacedRules: readonly PolicyRule[] = [
  { apiGroups: [''], resources: ['secrets'], verbs: READ, why: 'Gateway: the session\'s credentials Secret (Jupyter token, VNC password), watched per proposal namespace, never cluster-wide.' },
];

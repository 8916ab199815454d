// SPDX-License-Identifier: Apache-2.0
/** The kinds the session controller reads and writes, and its field manager. */
import { API_VERSION } from '../../api/v1alpha1/group.ts';
import type { AnalysisSession } from '../../api/v1alpha1/analysis-session.ts';
import type { ObjectRef, ResourceType } from '../../runtime/resource.ts';

export const SESSION_FIELD_MANAGER = 'panalysis-session-controller';

export const SESSION_RESOURCE: ResourceType = { apiVersion: API_VERSION, kind: 'AnalysisSession', plural: 'analysissessions', namespaced: true };

/** The namespace's NetworkPolicy of its sessions (controlled by the Namespace, see `desired/names.ts`). */
export const NETWORK_POLICY_RESOURCE: ResourceType = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true };

/**
 * The children the controller owns, watched only where we manage them (label selector). The
 * NetworkPolicy is among them for sessions made by older versions (one per session).
 */
export const OWNED_RESOURCES: ResourceType[] = [
  { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true },
  { apiVersion: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
  { apiVersion: 'v1', kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', namespaced: true },
  NETWORK_POLICY_RESOURCE,
];

/** Selects the objects we create for sessions. */
export const MANAGED_SELECTOR = 'app.kubernetes.io/managed-by=panalysis,app.kubernetes.io/name=panalysis-session';

export function sessionRef(s: AnalysisSession): ObjectRef {
  return { apiVersion: API_VERSION, kind: 'AnalysisSession', namespace: s.metadata.namespace!, name: s.metadata.name! };
}

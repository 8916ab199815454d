// SPDX-License-Identifier: Apache-2.0
/**
 * Deterministic names and labels of a session's objects (pure).
 *
 * Names cannot break: a session name is a DNS-1035 label of at most 40 characters that
 * never starts with `dataset-` (CRD rule), so `<name>-home` (at most 45) can never be the
 * claim `dataset-<x>` of a DatasetMount, and `<name>-credentials` (at most 52) fits every
 * kind. Pod volume names stay DNS labels of at most 63 characters (see
 * {@link datasetVolumeMountName}).
 */
import { API_VERSION, GROUP, LABELS } from '../api/v1alpha1/group.ts';
import type { AnalysisSession } from '../api/v1alpha1/analysis-session.ts';

/** Prefix no session name may carry: dataset claims are named `dataset-<DatasetMount>`. */
export const RESERVED_SESSION_PREFIX = 'dataset-';

/** Annotation on a session's pod with the session's UID, to recognise it after an orphaning delete. */
export const SESSION_UID_ANNOTATION = `${GROUP}/session-uid`;

/** Names of a session's children; kinds differ, so several share the session's name. */
export function sessionNames(name: string) {
  return { pod: name, secret: `${name}-credentials`, home: `${name}-home` } as const;
}

/**
 * The one NetworkPolicy of a namespace's sessions: it selects every session pod of the
 * namespace (by {@link SESSION_POD_LABELS}) and is controlled by the Namespace itself.
 */
export const SESSIONS_NETWORK_POLICY = 'panalysis-sessions';

/** Longest DNS-1123 label (pod volume names are such labels). */
export const MAX_LABEL = 63;

/**
 * The pod volume name of a dataset: `data-<name>` when that has at most 62 characters,
 * else exactly 63: its first 54 characters, `-` and a hash of the whole name. Short and
 * long forms never meet (their lengths differ); two long forms differ by the hash of the
 * whole name; none is `home`, `credentials` or `tmp`.
 */
export function datasetVolumeMountName(name: string): string {
  const full = `data-${name}`;
  return full.length < MAX_LABEL ? full : `${full.slice(0, MAX_LABEL - 9)}-${hashOf(name)}`;
}

/** True when `obj`'s controller owner reference carries `uid` (the only proof that a child is ours). */
export function isControlledBy(obj: { metadata?: { ownerReferences?: ReadonlyArray<{ uid: string; controller?: boolean }> } } | undefined, uid: string | undefined): boolean {
  if (!obj || !uid) return false;
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true)?.uid === uid;
}

/** The path prefix the gateway serves the session under; Jupyter's base_url is the same. */
export function sessionPath(namespace: string, name: string): string {
  return `/s/${namespace}/${name}/`;
}

/** Labels every child carries; `component` says which part it is. */
export function sessionLabels(session: AnalysisSession, component: string): Record<string, string> {
  return {
    [LABELS.managedBy]: 'panalysis',
    'app.kubernetes.io/name': 'panalysis-session',
    [LABELS.session]: session.metadata.name!,
    [LABELS.user]: session.spec.user,
    [LABELS.component]: component,
  };
}

/** Labels that select every session pod (and nothing else the operator makes). */
export const SESSION_POD_LABELS: Readonly<Record<string, string>> = { [LABELS.managedBy]: 'panalysis', 'app.kubernetes.io/name': 'panalysis-session', [LABELS.component]: 'session' };

/** Metadata of the namespace's {@link SESSIONS_NETWORK_POLICY}: our labels, the Namespace as its controller. */
export function namespacePolicyMeta(namespace: { name: string; uid: string }) {
  return {
    name: SESSIONS_NETWORK_POLICY,
    namespace: namespace.name,
    labels: { [LABELS.managedBy]: 'panalysis', 'app.kubernetes.io/name': 'panalysis-session', [LABELS.component]: 'network-policy' },
    ownerReferences: [{ apiVersion: 'v1', kind: 'Namespace', name: namespace.name, uid: namespace.uid, controller: true }],
  };
}

/** The controller owner reference to the session (garbage collection removes children). */
export function ownerReference(session: AnalysisSession) {
  return { apiVersion: API_VERSION, kind: 'AnalysisSession', name: session.metadata.name!, uid: session.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

/** Metadata of a child object. */
export function childMeta(session: AnalysisSession, name: string, component: string, annotations?: Record<string, string>) {
  return {
    name,
    namespace: session.metadata.namespace!,
    labels: sessionLabels(session, component),
    ...(annotations ? { annotations } : {}),
    ownerReferences: [ownerReference(session)],
  };
}

/** A stable 32-bit FNV-1a hash as 8 hex digits (for change detection, not security). */
export function hashOf(value: unknown): string {
  const text = JSON.stringify(value);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

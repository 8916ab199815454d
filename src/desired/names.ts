// SPDX-License-Identifier: Apache-2.0
/** Deterministic names and labels of a session's objects (pure). */
import { API_VERSION, LABELS } from '../api/v1alpha1/group.ts';
import type { AnalysisSession } from '../api/v1alpha1/analysis-session.ts';

/** Names of a session's children; kinds differ, so several share the session's name. */
export function sessionNames(name: string) {
  return { pod: name, service: name, networkPolicy: name, secret: `${name}-credentials`, home: `${name}-home` } as const;
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

// SPDX-License-Identifier: Apache-2.0
/**
 * Which objects under a session's child names are the session's own (pure). Ownership is
 * the controller owner reference carrying the session's UID, never a name or a label: an
 * object with the right name and another owner, or none, is a conflict. It is never
 * adopted, changed, mounted or deleted; the session waits and says which object is in the
 * way. The NetworkPolicy is the namespace's ({@link SESSIONS_NETWORK_POLICY}), shared by its
 * sessions: ours when its controller owner reference carries the Namespace's UID.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { AnalysisSession } from '../../api/v1alpha1/analysis-session.ts';
import { isControlledBy, SESSION_UID_ANNOTATION, SESSIONS_NETWORK_POLICY, sessionNames } from '../../desired/names.ts';
import { controllerOf } from '../../runtime/resource.ts';
import type { KubeObject, ObjectRef } from '../../runtime/resource.ts';

/**
 * The kinds of a session's children, in the order they are checked. A session has no
 * Service (the gateway connects to the pod's IP): one left by an older version is neither
 * read nor judged here, and goes with the session through its owner reference.
 */
export const CHILD_KINDS = ['Pod', 'Secret', 'PersistentVolumeClaim', 'NetworkPolicy'] as const;
export type ChildKind = (typeof CHILD_KINDS)[number];

/** The references of a session's children. */
export function childRefs(s: AnalysisSession): Record<ChildKind, ObjectRef> {
  const names = sessionNames(s.metadata.name!);
  const namespace = s.metadata.namespace!;
  return {
    Pod: { apiVersion: 'v1', kind: 'Pod', namespace, name: names.pod },
    Secret: { apiVersion: 'v1', kind: 'Secret', namespace, name: names.secret },
    PersistentVolumeClaim: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace, name: names.home },
    NetworkPolicy: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', namespace, name: SESSIONS_NETWORK_POLICY },
  };
}

/** What exists under the session's child names. */
export interface ChildrenFacts {
  /** The session's own children, by kind. */
  owned: Partial<Record<ChildKind, KubeObject>>;
  /** One sentence per object in the way, naming it. */
  conflicts: string[];
  /**
   * A pod under the session's name with no controller but the session's UID in its
   * annotation: the session's pod, orphaned by a `--cascade=orphan` delete. Only ever
   * stopped, never adopted.
   */
  orphanPod?: V1Pod;
}

function ownerWords(obj: KubeObject): string {
  const owner = controllerOf(obj);
  return owner ? `it is controlled by ${owner.kind} ${owner.name} (uid ${owner.uid})` : 'it has no controller';
}

/**
 * Sorts the objects found under the child names of `s` (undefined: none of that name);
 * `namespaceUid` is the UID of the session's Namespace, the owner of its NetworkPolicy
 * (undefined: not known, so no NetworkPolicy is taken for ours).
 */
export function judgeChildren(s: AnalysisSession, found: Partial<Record<ChildKind, KubeObject | undefined>>, namespaceUid?: string): ChildrenFacts {
  const uid = s.metadata.uid;
  const refs = childRefs(s);
  const out: ChildrenFacts = { owned: {}, conflicts: [] };
  for (const kind of CHILD_KINDS) {
    const obj = found[kind];
    if (!obj) continue;
    if (isControlledBy(obj, kind === 'NetworkPolicy' ? namespaceUid : uid)) {
      out.owned[kind] = obj;
      continue;
    }
    if (kind === 'Pod' && !controllerOf(obj) && uid && obj.metadata?.annotations?.[SESSION_UID_ANNOTATION] === uid) out.orphanPod = obj as V1Pod;
    const owner = kind === 'NetworkPolicy' ? `by namespace ${s.metadata.namespace}, as panalysis makes it for the namespace's sessions` : 'by this session';
    out.conflicts.push(`${kind.toLowerCase()} ${refs[kind].name} exists and is not owned ${owner} (${ownerWords(obj)}); delete or rename it`);
  }
  return out;
}

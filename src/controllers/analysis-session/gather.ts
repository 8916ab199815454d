// SPDX-License-Identifier: Apache-2.0
/**
 * gatherSessionFacts: the I/O half of a reconcile. Reads the directory, the caches and,
 * for child names the cache does not hold, the apiserver; mints credentials the first
 * time (the only random numbers of a session).
 */
import { randomBytes } from 'node:crypto';
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import type { AnalysisSession } from '../../api/v1alpha1/analysis-session.ts';
import { DirectoryUnavailableError } from '../../identity/directory.ts';
import type { Directory } from '../../identity/directory.ts';
import type { KubeObject, ObjectRef } from '../../runtime/resource.ts';
import { CHILD_KINDS, childRefs, judgeChildren } from './children.ts';
import type { ChildKind, ChildrenFacts } from './children.ts';
import type { IdentityFact, ProposalFact, SessionFacts } from './decide.ts';
import type { DatasetMount } from '../../api/v1alpha1/dataset-mount.ts';
import { LABELS } from '../../api/v1alpha1/group.ts';
import type { ProposalDirectory } from '../../identity/proposals.ts';
import type { QuotaFact } from './quota-gate.ts';
import type { StorageClassFact } from './home-volume.ts';

/** What gather reads from: the directory, the proposal source and the manager's caches. */
export interface GatherDeps {
  directory: () => Directory;
  proposals: () => ProposalDirectory;
  lookup: (ref: ObjectRef) => KubeObject | undefined;
  /**
   * A live read, where the cache cannot tell: a child name not in the cache may still be taken by an object
   * without our labels, or by our own Secret applied a moment ago (minting a second token would replace it).
   */
  get: (ref: ObjectRef) => Promise<KubeObject | undefined>;
  /** DatasetMounts of a namespace, from the cache. */
  datasets: (namespace: string) => DatasetMount[];
  /** The quota that governs a namespace, from the cache. */
  quota: (namespace: string) => QuotaFact;
  /** The cluster's StorageClasses, from the cache; absent: not known (the pod is then created with its claim). */
  storageClasses?: () => readonly StorageClassFact[];
}

/** VNC authentication uses the first 8 characters of a password; Jupyter tokens are longer. */
export function mintSecret(type: AnalysisSession['spec']['type']): string {
  return type === 'desktop' ? randomBytes(6).toString('base64url') : randomBytes(32).toString('base64url');
}

async function identityOf(user: string, directory: Directory): Promise<IdentityFact> {
  try {
    const identity = await directory.lookupUser(user);
    if (!identity) return { kind: 'missing' };
    const names = directory.groupNames ? await directory.groupNames(user) : undefined;
    return { kind: 'found', identity, otherGroupNames: names ?? [] };
  } catch (err) {
    if (err instanceof DirectoryUnavailableError) return { kind: 'unavailable', message: err.message };
    throw err;
  }
}

function existingSecret(secret: V1Secret | undefined, type: AnalysisSession['spec']['type']): string | undefined {
  const value = secret?.data?.[type === 'jupyter' ? 'token' : 'vnc-password'];
  return value ? Buffer.from(value, 'base64').toString('utf8') : undefined;
}

async function proposalOf(namespace: string, deps: GatherDeps): Promise<ProposalFact> {
  const ns = deps.lookup({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
  const id = ns?.metadata?.labels?.[LABELS.proposal];
  if (!id) return { kind: 'none' };
  try {
    const info = await deps.proposals().getProposal(id);
    return info ? { kind: 'found', info } : { kind: 'missing', id };
  } catch (err) {
    if (err instanceof DirectoryUnavailableError) return { kind: 'unavailable', message: err.message };
    throw err;
  }
}

/**
 * What exists under the child names of `s`: from the cache (which holds only objects with
 * our labels), and, for the kinds in `live` the cache does not hold, from a live read (an
 * object someone else created under the name, or ours applied a moment ago).
 */
export async function gatherChildren(s: AnalysisSession, deps: GatherDeps, live: readonly ChildKind[] = []): Promise<ChildrenFacts & { found: Partial<Record<ChildKind, KubeObject>>; namespaceUid?: string }> {
  const refs = childRefs(s);
  const found = await Promise.all(CHILD_KINDS.map(async (kind) => [kind, deps.lookup(refs[kind]) ?? (live.includes(kind) ? await deps.get(refs[kind]) : undefined)] as const));
  const present = Object.fromEntries(found.filter(([, obj]) => obj !== undefined)) as Partial<Record<ChildKind, KubeObject>>;
  const namespaceUid = await namespaceUidOf(s.metadata.namespace!, deps);
  return { ...judgeChildren(s, present, namespaceUid), found: present, namespaceUid };
}

/** The UID of a Namespace (the owner of its sessions' NetworkPolicy): from the cache, else read live. */
async function namespaceUidOf(name: string, deps: GatherDeps): Promise<string | undefined> {
  const ref = { apiVersion: 'v1', kind: 'Namespace', name };
  return (deps.lookup(ref) ?? (await deps.get(ref)))?.metadata?.uid;
}

function withChildren(s: AnalysisSession, facts: Omit<SessionFacts, 'credentials'>, children: ChildrenFacts & { namespaceUid?: string }): SessionFacts {
  const type = s.spec?.type === 'desktop' ? 'desktop' : 'jupyter';
  return {
    ...facts,
    // Only the session's own Secret is read: a token in a Secret someone else put under the name is never used;
    // a new one is minted only when the session has none.
    credentials: { secret: existingSecret(children.owned.Secret as V1Secret | undefined, type) ?? mintSecret(type) },
    pod: children.owned.Pod as V1Pod | undefined,
    children: children.owned,
    conflicts: children.conflicts,
    orphanPod: children.orphanPod,
    namespaceUid: children.namespaceUid,
  };
}

/** The facts of a session that needs no lookup: the directory and proposal source are not asked. */
const NOT_ASKED = 'not asked: the session is stopped or expired';

/**
 * Gathers the facts {@link decideSession} needs for `s`, with the children as the cache
 * sees them. When `stopsAnyway` says the session must have no pod whatever the directory
 * says (stopped or expired, judged from its own pod, see `policy/lifecycle-session.ts`),
 * the directory and the proposal source are not asked (they read as unavailable).
 */
export async function gatherSessionFacts(s: AnalysisSession, deps: GatherDeps, stopsAnyway?: (pod: V1Pod | undefined, quota: QuotaFact) => boolean): Promise<SessionFacts> {
  const namespace = s.metadata.namespace!;
  const children = await gatherChildren(s, deps);
  const inNamespace = deps.datasets(namespace);
  const wanted = Array.isArray(s.spec?.datasets) ? s.spec.datasets.map((d) => d?.name) : [];
  const quota = deps.quota(namespace);
  const skip = stopsAnyway?.(children.owned.Pod as V1Pod | undefined, quota) === true;
  const facts: Omit<SessionFacts, 'credentials'> = {
    identity: skip ? { kind: 'unavailable', message: NOT_ASKED } : typeof s.spec?.user === 'string' ? await identityOf(s.spec.user, deps.directory()) : { kind: 'missing' },
    proposal: skip ? { kind: 'unavailable', message: NOT_ASKED } : await proposalOf(namespace, deps),
    datasets: new Map(wanted.map((name) => [name, inNamespace.find((d) => d.metadata.name === name)])),
    availableDatasets: inNamespace.map((d) => d.metadata.name!).sort(),
    quota,
    storageClasses: deps.storageClasses?.(),
  };
  return withChildren(s, facts, children);
}

/**
 * `facts` with the children of `kinds` (those a plan would create, absent from the cache)
 * read live; the same object when none of them exists, else facts to decide again with
 * (an object in the way is then a conflict, and our own Secret's token is kept).
 */
export async function recheckChildren(s: AnalysisSession, facts: SessionFacts, deps: GatherDeps, kinds: readonly ChildKind[]): Promise<SessionFacts> {
  const children = await gatherChildren(s, deps, kinds);
  if (!kinds.some((kind) => children.found[kind] !== undefined)) return facts;
  return withChildren(s, facts, children);
}

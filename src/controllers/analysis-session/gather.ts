// SPDX-License-Identifier: Apache-2.0
/**
 * gatherSessionFacts: the I/O half of a reconcile. Reads the directory and the caches,
 * and mints credentials the first time (the only random numbers of a session).
 */
import { randomBytes } from 'node:crypto';
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import type { AnalysisSession } from '../../api/v1alpha1/analysis-session.ts';
import { DirectoryUnavailableError } from '../../identity/directory.ts';
import type { Directory } from '../../identity/directory.ts';
import { sessionNames } from '../../desired/names.ts';
import type { KubeObject, ObjectRef } from '../../runtime/resource.ts';
import type { IdentityFact, ProposalFact, SessionFacts } from './decide.ts';
import type { DatasetMount } from '../../api/v1alpha1/dataset-mount.ts';
import { LABELS } from '../../api/v1alpha1/group.ts';
import type { ProposalDirectory } from '../../identity/proposals.ts';

/** What gather reads from: the directory, the proposal source and the manager's caches. */
export interface GatherDeps {
  directory: () => Directory;
  proposals: () => ProposalDirectory;
  lookup: (ref: ObjectRef) => KubeObject | undefined;
  /** A live read, for the one case where a stale cache would do harm (minting credentials twice). */
  get: (ref: ObjectRef) => Promise<KubeObject | undefined>;
  /** DatasetMounts of a namespace, from the cache. */
  datasets: (namespace: string) => DatasetMount[];
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

/** Gathers the facts {@link decideSession} needs for `s`. */
export async function gatherSessionFacts(s: AnalysisSession, deps: GatherDeps): Promise<SessionFacts> {
  const names = sessionNames(s.metadata.name!);
  const namespace = s.metadata.namespace!;
  const pod = deps.lookup({ apiVersion: 'v1', kind: 'Pod', namespace, name: names.pod }) as V1Pod | undefined;
  const secretRef = { apiVersion: 'v1', kind: 'Secret', namespace, name: names.secret };
  // The cache may not have seen a Secret we applied a moment ago; read it live before minting a new one,
  // or a second token would replace the one the pod already started with.
  const secret = (deps.lookup(secretRef) ?? (await deps.get(secretRef))) as V1Secret | undefined;
  const type = s.spec?.type === 'desktop' ? 'desktop' : 'jupyter';
  const inNamespace = deps.datasets(namespace);
  const wanted = Array.isArray(s.spec?.datasets) ? s.spec.datasets.map((d) => d?.name) : [];
  return {
    identity: typeof s.spec?.user === 'string' ? await identityOf(s.spec.user, deps.directory()) : { kind: 'missing' },
    credentials: { secret: existingSecret(secret, type) ?? mintSecret(type) },
    pod,
    proposal: await proposalOf(namespace, deps),
    datasets: new Map(wanted.map((name) => [name, inNamespace.find((d) => d.metadata.name === name)])),
    availableDatasets: inNamespace.map((d) => d.metadata.name!).sort(),
  };
}

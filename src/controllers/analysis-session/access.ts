// SPDX-License-Identifier: Apache-2.0
/**
 * Who may run this session, and with which data (pure): proposal membership, the
 * DatasetMounts the user may read (read-write only for write groups, only until
 * writableUntil or, without one, the end of the proposal's beamtime plus a grace), and the supplementary groups that access needs (at most 16, the NFS
 * AUTH_SYS limit). Nothing is mounted on a guess: a dataset that is missing, not
 * ready or not readable by the user stops the decision.
 */
import type { AnalysisSession } from '../../api/v1alpha1/analysis-session.ts';
import type { DatasetMount } from '../../api/v1alpha1/dataset-mount.ts';
import { datasetClaimFor } from '../../desired/dataset-volume.ts';
import type { DatasetVolume } from '../../desired/session-inputs.ts';
import type { PosixIdentity } from '../../identity/directory.ts';
import type { ProposalInfo } from '../../identity/proposals.ts';
import { sharingOutsiders } from '../../policy/session-access.ts';
import type { Verdict } from './observe-pod.ts';

/** What the proposal source said about the namespace's proposal. */
export type ProposalFact =
  | { kind: 'none' }
  | { kind: 'found'; info: ProposalInfo }
  | { kind: 'missing'; id: string }
  | { kind: 'unavailable'; message: string };

/** The NFS AUTH_SYS limit on supplementary groups. */
export const MAX_GROUPS = 16;

export interface AccessDecision {
  outcome: 'ok' | 'wait' | 'refuse';
  /** The `Authorized` condition. */
  authorized: Verdict;
  /** The `DataMounted` condition. */
  data: Verdict;
  mounts: DatasetVolume[];
  /** gids that grant access to the mounted data. */
  gids: number[];
  /** When a mount mode changes (write window closes), in ms from now. */
  nextChangeMs?: number;
}

const names = (xs: readonly string[]): string => (xs.length > 0 ? xs.join(', ') : '(none)');

function refuse(reason: string, message: string): AccessDecision {
  const v: Verdict = { status: 'False', reason, message };
  return { outcome: 'refuse', authorized: v, data: v, mounts: [], gids: [] };
}

function wait(reason: string, message: string, authorized?: Verdict): AccessDecision {
  const v: Verdict = { status: 'Unknown', reason, message };
  return { outcome: 'wait', authorized: authorized ?? v, data: v, mounts: [], gids: [] };
}

function checkProposal(s: AnalysisSession, fact: ProposalFact): AccessDecision | Verdict {
  if (fact.kind === 'unavailable') return wait('DirectoryUnavailable', `The proposal directory cannot be reached; the session waits and retries (${fact.message}).`);
  if (fact.kind === 'missing') return refuse('ProposalNotFound', `The namespace belongs to proposal ${fact.id} (label panalysis.io/proposal), which the facility's proposal system does not know.`);
  if (fact.kind === 'none') return { status: 'True', reason: 'NoProposal', message: 'The namespace belongs to no proposal; dataset groups decide access.' };
  if (!fact.info.members.includes(s.spec.user)) {
    return refuse('NotProposalMember', `spec.user: ${s.spec.user} is not a member of proposal ${fact.info.id}; the proposal's principal investigator can add them.`);
  }
  // A session is shared only within its proposal: anyone else would reach the proposal's data through it.
  const outsiders = sharingOutsiders(s, fact.info.members);
  if (outsiders.length > 0) {
    return refuse('SharedWithNonMember', `spec.sharedWith.users: ${names(outsiders)} ${outsiders.length > 1 ? 'are not members' : 'is not a member'} of proposal ${fact.info.id}; share the session only with members of the proposal.`);
  }
  return { status: 'True', reason: 'ProposalMember', message: `${s.spec.user} is a member of proposal ${fact.info.id}.` };
}

interface DatasetAccess {
  mount: DatasetVolume;
  gids: number[];
  nextChangeMs?: number;
}

/**
 * When write access ends: the dataset's own `writableUntil`, else the end of the
 * proposal's beamtime plus `graceMs`, else never.
 */
export function writeDeadline(dm: DatasetMount, proposal: ProposalFact, graceMs: number): number | undefined {
  if (dm.spec.writableUntil) return Date.parse(dm.spec.writableUntil);
  const end = proposal.kind === 'found' ? proposal.info.beamtime?.end : undefined;
  return end ? Date.parse(end) + graceMs : undefined;
}

function accessOne(s: AnalysisSession, i: number, dm: DatasetMount, id: PosixIdentity, groupNames: Set<string>, proposal: ProposalFact, now: number, writeGraceMs: number): DatasetAccess | AccessDecision {
  const field = `spec.datasets[${i}]`;
  const name = dm.metadata.name!;
  const ready = dm.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') return wait('DatasetNotReady', `${field}: dataset ${name} is not ready: ${ready?.message ?? 'not yet reconciled'}`, { status: 'True', reason: 'Pending', message: 'Access is checked once the datasets are ready.' });
  const embargo = dm.spec.embargoUntil ? Date.parse(dm.spec.embargoUntil) : undefined;
  if (embargo !== undefined && now < embargo && proposal.kind !== 'found') {
    return refuse('EmbargoInEffect', `${field}: dataset ${name} is under embargo until ${dm.spec.embargoUntil} and this namespace belongs to no proposal whose members may read it.`);
  }
  const read = dm.spec.access.readGroups;
  const write = dm.spec.access.writeGroups ?? [];
  const granting = [...new Set([...read, ...write])].filter((g) => groupNames.has(g));
  if (granting.length === 0) {
    return refuse('DatasetAccessDenied', `${field}: ${s.spec.user} may not read dataset ${name}: not a member of its read groups (${names(read)}) or write groups (${names(write)}).`);
  }
  const until = writeDeadline(dm, proposal, writeGraceMs);
  const ref = s.spec.datasets![i]!;
  const rw = ref.readOnly !== true && dm.spec.readOnly === false && write.some((g) => groupNames.has(g)) && (until === undefined || now < until);
  const gids = id.groups.filter((g) => granting.includes(g.name)).map((g) => g.gid);
  return {
    mount: { name, claimName: dm.status?.claimName ?? datasetClaimFor(dm), mountPath: dm.spec.mountPath, readOnly: !rw, ...(rw && until !== undefined ? { writableUntil: new Date(until).toISOString().replace('.000Z', 'Z') } : {}) },
    gids,
    nextChangeMs: rw && until !== undefined ? until - now : undefined,
  };
}

/**
 * Decides access. `datasets` maps each requested name to its DatasetMount (undefined:
 * none of that name in the namespace); `available` lists the namespace's DatasetMounts.
 */
export function decideAccess(s: AnalysisSession, id: PosixIdentity, proposal: ProposalFact, datasets: Map<string, DatasetMount | undefined>, available: string[], now: number, extraGids: number[] = [], otherGroupNames: string[] = [], writeGraceMs = 7 * 86_400_000): AccessDecision {
  const membership = checkProposal(s, proposal);
  if ('outcome' in membership) return membership;
  const groupNames = new Set([...id.groups.map((g) => g.name), ...otherGroupNames]);
  const mounts: DatasetVolume[] = [];
  const gids = new Set(extraGids);
  let nextChangeMs: number | undefined;
  for (const [i, ref] of (s.spec.datasets ?? []).entries()) {
    const dm = datasets.get(ref.name);
    if (!dm) return refuse('DatasetNotFound', `spec.datasets[${i}].name: no DatasetMount "${ref.name}" in namespace ${s.metadata.namespace}; DatasetMounts here: ${names(available)}.`);
    // Being deleted counts as gone: its volume may not outlive it through a running session.
    if (dm.metadata.deletionTimestamp) return refuse('DatasetDeleted', `spec.datasets[${i}].name: DatasetMount "${ref.name}" is being deleted; remove it from spec.datasets.`);
    const one = accessOne(s, i, dm, id, groupNames, proposal, now, writeGraceMs);
    if ('outcome' in one) return one;
    mounts.push(one.mount);
    one.gids.forEach((g) => gids.add(g));
    if (one.nextChangeMs !== undefined) nextChangeMs = Math.min(nextChangeMs ?? Infinity, one.nextChangeMs);
  }
  if (gids.size > MAX_GROUPS) {
    return refuse('TooManyGroups', `spec.datasets: the session would need ${gids.size} supplementary groups (${[...gids].sort((a, b) => a - b).join(', ')}), more than the ${MAX_GROUPS} that NFS (AUTH_SYS) carries; mount fewer datasets in one session.`);
  }
  const data: Verdict = mounts.length === 0
    ? { status: 'True', reason: 'NoDatasets', message: 'No datasets requested.' }
    : { status: 'True', reason: 'Mounted', message: mounts.map((m) => `${m.name} at ${m.mountPath} (${m.readOnly ? 'read-only' : `read-write${m.writableUntil ? ` until ${m.writableUntil}` : ''}`})`).join('; ') };
  return { outcome: 'ok', authorized: membership, data, mounts, gids: [...gids].sort((a, b) => a - b), nextChangeMs };
}

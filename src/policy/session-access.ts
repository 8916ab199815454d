// SPDX-License-Identifier: Apache-2.0
/**
 * Who may open a session in a browser, and with whom it may be shared (pure). The operator
 * uses {@link sharingOutsiders} to refuse sharing beyond the proposal; the gateway uses
 * {@link decideOpen} on every request and WebSocket upgrade. Only the identity the gateway
 * established itself (OIDC login) and facts from the directory and the cluster count; no
 * header a client sends.
 */
import type { AnalysisSession } from '../api/v1alpha1/analysis-session.ts';

/** The proposal of the session's namespace, as the proposal source answered. */
export type ProposalMembership =
  | { kind: 'none' }
  | { kind: 'found'; id: string; members: readonly string[] }
  | { kind: 'missing'; id: string }
  | { kind: 'unavailable'; message: string };

/** The viewer: the facility username from the login, and their groups (token claim and directory). */
export interface Viewer {
  user: string;
  groups: readonly string[];
}

export type OpenDecision =
  | { allow: true; role: 'owner' | 'shared'; reason: string }
  | { allow: false; status: 403 | 503; reason: string; message: string };

/** The users in `spec.sharedWith.users` who are not members of the proposal. */
export function sharingOutsiders(session: AnalysisSession, members: readonly string[]): string[] {
  return (session.spec.sharedWith?.users ?? []).filter((u) => !members.includes(u));
}

/**
 * Decides whether `viewer` may open `session`:
 * - the owner (`spec.user`), while still a member of the namespace's proposal (if it has one);
 * - a user named in `spec.sharedWith.users`, or a member of a group in `spec.sharedWith.groups`,
 *   who is a member of the proposal; in a namespace of no proposal, sharing needs no membership;
 * - nobody else. An unreachable proposal source refuses (503) rather than guess.
 */
export function decideOpen(session: AnalysisSession, viewer: Viewer, proposal: ProposalMembership): OpenDecision {
  const owner = session.spec.user === viewer.user;
  const shared = session.spec.sharedWith;
  const named = shared?.users?.includes(viewer.user) === true;
  const byGroup = (shared?.groups ?? []).find((g) => viewer.groups.includes(g));
  const ref = `${session.metadata.namespace}/${session.metadata.name}`;
  if (!owner && !named && !byGroup) {
    return { allow: false, status: 403, reason: 'NotShared', message: `Session ${ref} belongs to ${session.spec.user} and is not shared with you (${viewer.user}). Ask its owner to add you to spec.sharedWith.` };
  }
  if (proposal.kind === 'unavailable') {
    return { allow: false, status: 503, reason: 'DirectoryUnavailable', message: `Proposal membership cannot be checked right now (${proposal.message}); try again in a minute.` };
  }
  if (proposal.kind === 'missing') {
    return { allow: false, status: 403, reason: 'ProposalNotFound', message: `Session ${ref} belongs to proposal ${proposal.id}, which the facility's proposal system does not know.` };
  }
  if (proposal.kind === 'found' && !proposal.members.includes(viewer.user)) {
    return { allow: false, status: 403, reason: 'NotProposalMember', message: `You (${viewer.user}) are not a member of proposal ${proposal.id}, which session ${ref} belongs to.` };
  }
  if (owner) return { allow: true, role: 'owner', reason: 'Owner' };
  return { allow: true, role: 'shared', reason: named ? 'SharedWithUser' : `SharedWithGroup:${byGroup}` };
}

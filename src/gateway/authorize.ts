// SPDX-License-Identifier: Apache-2.0
/**
 * The gateway's access check on every request and WebSocket upgrade: the facts (the
 * viewer's groups from the token and the directory, the proposal's members) gathered
 * through the same ports as the operator, the decision by the shared pure rule.
 */
import type { AnalysisSession } from '../api/v1alpha1/analysis-session.ts';
import { DirectoryUnavailableError } from '../identity/directory.ts';
import type { Directory } from '../identity/directory.ts';
import type { ProposalDirectory } from '../identity/proposals.ts';
import { decideOpen } from '../policy/session-access.ts';
import type { OpenDecision, ProposalMembership, Viewer } from '../policy/session-access.ts';

/** The directory and proposal sources (re-read at every check: a reload swaps them). */
export interface AccessSources {
  directory: () => Directory;
  proposals: () => ProposalDirectory;
  /** The proposal id of a namespace, from its label. */
  proposalOf: (namespace: string) => string | undefined;
}

async function membership(sources: AccessSources, namespace: string): Promise<ProposalMembership> {
  const id = sources.proposalOf(namespace);
  if (!id) return { kind: 'none' };
  try {
    const info = await sources.proposals().getProposal(id);
    return info ? { kind: 'found', id, members: info.members } : { kind: 'missing', id };
  } catch (err) {
    return { kind: 'unavailable', message: err instanceof DirectoryUnavailableError ? err.message : 'the proposal source failed' };
  }
}

/**
 * Decides whether `viewer` may open `session` now. Directory groups are looked up only
 * when the session is shared with groups the token's groups do not already match.
 */
export async function authorizeViewer(session: AnalysisSession, viewer: Viewer, sources: AccessSources): Promise<OpenDecision> {
  let groups = viewer.groups;
  const wanted = session.spec.sharedWith?.groups ?? [];
  if (session.spec.user !== viewer.user && wanted.length > 0 && !wanted.some((g) => groups.includes(g))) {
    try {
      const d = sources.directory();
      const names = d.groupNames ? await d.groupNames(viewer.user) : (await d.lookupUser(viewer.user))?.groups.map((g) => g.name);
      groups = [...groups, ...(names ?? [])];
    } catch (err) {
      if (!(err instanceof DirectoryUnavailableError)) throw err;
      return { allow: false, status: 503, reason: 'DirectoryUnavailable', message: `Your groups cannot be checked right now (${err.message}); try again in a minute.` };
    }
  }
  return decideOpen(session, { user: viewer.user, groups }, await membership(sources, session.metadata.namespace!));
}

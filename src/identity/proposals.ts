// SPDX-License-Identifier: Apache-2.0
/**
 * The proposal port: who belongs to a beamtime proposal, and its dates. Adapters:
 * `static` (configuration) and `ldap` (a group per proposal); SciCat/ICAT can follow.
 */

/** What the facility knows about a proposal. */
export interface ProposalInfo {
  id: string;
  /** Usernames of the members (after nested-group expansion). */
  members: string[];
  /** The beamtime, RFC 3339 instants, when known. */
  beamtime?: { start: string; end: string };
  /** Data stays restricted to members until then. */
  embargoUntil?: string;
}

/**
 * Looks proposals up.
 * Contract: resolves `undefined` for an unknown proposal; throws
 * `DirectoryUnavailableError` when the source cannot answer.
 */
export interface ProposalDirectory {
  getProposal(id: string): Promise<ProposalInfo | undefined>;
}

/** Proposals listed in the configuration. */
export class StaticProposals implements ProposalDirectory {
  private readonly proposals: ProposalInfo[];

  constructor(proposals: ProposalInfo[]) {
    this.proposals = proposals;
  }

  async getProposal(id: string): Promise<ProposalInfo | undefined> {
    const p = this.proposals.find((x) => x.id === id);
    return p ? structuredClone(p) : undefined;
  }
}

// SPDX-License-Identifier: Apache-2.0
/** Builds the directory and proposal adapters the configuration names. */
import type { OperatorConfig } from '../config/schema.ts';
import type { Directory } from '../identity/directory.ts';
import { StaticProposals } from '../identity/proposals.ts';
import type { ProposalDirectory } from '../identity/proposals.ts';
import { StaticDirectory } from '../identity/static-directory.ts';

/** The directory of `config`. */
export function directoryFromConfig(config: OperatorConfig): Directory {
  return new StaticDirectory(config.directory.static ?? { users: [] });
}

/** The proposal source of `config`. */
export function proposalsFromConfig(config: OperatorConfig): ProposalDirectory {
  return new StaticProposals(config.proposals.static ?? []);
}

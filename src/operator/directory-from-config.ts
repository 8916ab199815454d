// SPDX-License-Identifier: Apache-2.0
/** Builds the directory adapter the configuration names. */
import type { OperatorConfig } from '../config/schema.ts';
import type { Directory } from '../identity/directory.ts';
import { StaticDirectory } from '../identity/static-directory.ts';

/** The directory of `config` (static for now; the port allows LDAP). */
export function directoryFromConfig(config: OperatorConfig): Directory {
  return new StaticDirectory(config.directory.static ?? { users: [] });
}

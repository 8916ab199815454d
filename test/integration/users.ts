// SPDX-License-Identifier: Apache-2.0
import type { LocalUser } from '../../src/cluster/kubeconfig.ts';

/** Identities the integration tests act as, besides admin. */
export const TEST_USERS: LocalUser[] = [
  { name: 'portal', groups: ['panalysis:portals'] },
  { name: 'alice', groups: ['panalysis:scientists'] },
];

// SPDX-License-Identifier: Apache-2.0
import type { LocalUser } from '../../src/cluster/kubeconfig.ts';

/**
 * Identities the integration tests act as, besides admin (static tokens of the local
 * cluster). Tests grant them rights with RoleBindings in their own namespaces.
 */
export const TEST_USERS: LocalUser[] = [
  { name: 'portal', groups: ['panalysis:portals'] },
  { name: 'alice', groups: ['panalysis:scientists'] },
  { name: 'bob', groups: ['panalysis:scientists'] },
  { name: 'carol', groups: ['panalysis:scientists'] },
  // A facility admin with the panalysis-admin role, who is not a portal.
  { name: 'facility-admin', groups: ['panalysis:facility-admins'] },
  // A GitOps controller (Argo CD, Flux) that relabels and patches metadata.
  { name: 'gitops', groups: ['gitops:controllers'] },
];

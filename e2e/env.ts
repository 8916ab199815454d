// SPDX-License-Identifier: Apache-2.0
/**
 * Where the e2e suites run. With E2E_KUBECONFIG they run against that cluster, where
 * panalysis is installed (Helm chart or manifests/install.yaml) and its operator runs.
 * Without it (as part of `npm test`) they run on the integration tests' local control
 * plane, with the operator started here as a process.
 */
import { KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { inject } from 'vitest';

/** Path of the kubeconfig the suites use. */
export function kubeconfigPath(): string {
  return process.env.E2E_KUBECONFIG ?? inject('kubeconfig');
}

/** True when the suites must start the operator themselves. */
export function needsOperator(): boolean {
  return !process.env.E2E_KUBECONFIG;
}

export function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath());
  return kc;
}

/** What the suites ask for; override to match the cluster's operator configuration. */
export const E2E = {
  profile: process.env.E2E_PROFILE ?? 'jupyter-scipy',
  user: process.env.E2E_USER ?? 'alice',
  proposal: process.env.E2E_PROPOSAL ?? '20231234',
  /** `<namespace>:<name>` of the installed operator's ServiceAccount, bound in the suite's proposal namespace. */
  operatorServiceAccount: process.env.E2E_OPERATOR_SA ?? 'panalysis-system:panalysis-operator',
  /** The ClusterRole with the operator's rights in proposal namespaces (docs/operator-rbac.md). */
  operatorRole: process.env.E2E_OPERATOR_ROLE ?? 'panalysis-operator-namespaced',
};

/**
 * What an admin does with each proposal namespace on an installed cluster: bind the
 * operator's namespaced role there (the operator has no rights in other namespaces).
 */
export async function bindOperator(namespace: string): Promise<void> {
  const [saNamespace, saName] = E2E.operatorServiceAccount.split(':');
  await kubeConfig().makeApiClient(RbacAuthorizationV1Api).createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: 'panalysis-operator' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: E2E.operatorRole },
      subjects: [{ kind: 'ServiceAccount', name: saName!, namespace: saNamespace! }],
    },
  });
}

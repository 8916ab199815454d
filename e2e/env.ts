// SPDX-License-Identifier: Apache-2.0
/**
 * Where the e2e suites run. With E2E_KUBECONFIG they run against that cluster, where
 * panalysis is installed (Helm chart or manifests/install.yaml) and its operator runs.
 * Without it (as part of `npm test`) they run on the integration tests' local control
 * plane, with the operator started here as a process.
 */
import { KubeConfig } from '@kubernetes/client-node';
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
};

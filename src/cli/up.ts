// SPDX-License-Identifier: Apache-2.0
/**
 * `panalysis up`: the embedded default. Without KUBECONFIG it starts a local control
 * plane in the foreground, installs the CRDs and a demo proposal namespace, and prints
 * what to do next; Ctrl-C stops everything.
 */
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { ParsedArgs } from './args.ts';
import { stringFlag } from './args.ts';
import { installCrds } from '../cluster/install.ts';
import { startLocalCluster } from '../cluster/local-cluster.ts';
import type { LocalCluster } from '../cluster/local-cluster.ts';
import { LABELS } from '../api/v1alpha1/group.ts';

/** The demo proposal's namespace. */
export const DEMO_NAMESPACE = 'proposal-demo';

async function createDemoNamespace(kubeconfig: string): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  try {
    await core.createNamespace({ body: { metadata: { name: DEMO_NAMESPACE, labels: { [LABELS.proposal]: 'demo', 'pod-security.kubernetes.io/enforce': 'restricted' } } } });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
}

/** Runs until SIGINT/SIGTERM. */
export async function runUp(args: ParsedArgs): Promise<void> {
  let cluster: LocalCluster | undefined;
  let kubeconfig = process.env.KUBECONFIG;
  if (kubeconfig && !args.flags.local) {
    console.error(`Using the cluster of KUBECONFIG=${kubeconfig}`);
    await installCrds(kubeconfig);
  } else {
    cluster = await startLocalCluster({ name: stringFlag(args, 'name', 'panalysis-up') });
    kubeconfig = cluster.kubeconfig;
  }
  await createDemoNamespace(kubeconfig);
  const bin = cluster ? `${cluster.binaries.k8sBinDir}/` : '';
  console.log(`
panalysis is up.

In another terminal:
  export KUBECONFIG=${kubeconfig}
  ${bin}kubectl get nodes -L nvidia.com/gpu.product
  ${bin}kubectl get crds | grep panalysis.io
  ${bin}kubectl get panalysis -A
  ${bin}kubectl -n ${DEMO_NAMESPACE} get pquota

Press Ctrl-C to stop.`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  if (cluster) await cluster.stop(true);
}

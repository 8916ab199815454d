// SPDX-License-Identifier: Apache-2.0
/**
 * `panalysis up`: the embedded default. Without KUBECONFIG it starts a local control
 * plane; then it installs the CRDs, runs the operator with the demo configuration,
 * creates a demo proposal namespace with a dataset and two sessions, prints their status and what to
 * do next, and runs until Ctrl-C.
 */
import type { ChildProcess } from 'node:child_process';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type { ParsedArgs } from './args.ts';
import { stringFlag } from './args.ts';
import { spawnOperator } from '../operator/spawn.ts';
import { installCrds, installPlatform } from '../cluster/install.ts';
import { startLocalCluster } from '../cluster/local-cluster.ts';
import type { LocalCluster } from '../cluster/local-cluster.ts';
import { freePort, waitFor } from '../cluster/wait.ts';
import { LABELS } from '../api/v1alpha1/group.ts';
import type { AnalysisSession } from '../api/v1alpha1/analysis-session.ts';

/** The demo proposal's namespace. */
export const DEMO_NAMESPACE = 'proposal-demo';
const DEMO_SESSIONS: Array<{ name: string; spec: AnalysisSession['spec'] }> = [
  { name: 'demo-notebook', spec: { user: 'demo', type: 'jupyter', profile: 'jupyter-scipy', lifetime: '8h', datasets: [{ name: 'raw' }] } },
  { name: 'demo-desktop', spec: { user: 'demo', type: 'desktop', profile: 'desktop-xfce', desktop: { protocol: 'guacamole' }, resources: { gpu: { flavour: 'a100', count: 1 } } } },
];
const DEMO_DATASET = { source: { nfs: { server: 'nfs01.facility.example', path: '/exp/demo/raw' } }, access: { readGroups: ['pdemo'] }, mountPath: '/data/raw', description: 'Raw data of the demo proposal' };
const G = { group: 'panalysis.io', version: 'v1alpha1', plural: 'analysissessions' };

function ignoreConflict(err: unknown): void {
  if ((err as { code?: number }).code !== 409) throw err;
}

async function createDemo(kc: KubeConfig): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const labels = { [LABELS.proposal]: 'demo', 'pod-security.kubernetes.io/enforce': 'restricted' };
  await core.createNamespace({ body: { metadata: { name: DEMO_NAMESPACE, labels } } }).catch(ignoreConflict);
  await waitFor('the demo namespace', async () => Boolean(await core.readNamespacedServiceAccount({ name: 'default', namespace: DEMO_NAMESPACE })), 30_000);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const raw = { apiVersion: 'panalysis.io/v1alpha1', kind: 'DatasetMount', metadata: { name: 'raw' }, spec: DEMO_DATASET };
  await custom.createNamespacedCustomObject({ group: 'panalysis.io', version: 'v1alpha1', plural: 'datasetmounts', namespace: DEMO_NAMESPACE, body: raw }).catch(ignoreConflict);
  for (const s of DEMO_SESSIONS) {
    const body = { apiVersion: 'panalysis.io/v1alpha1', kind: 'AnalysisSession', metadata: { name: s.name }, spec: s.spec };
    await custom.createNamespacedCustomObject({ ...G, namespace: DEMO_NAMESPACE, body }).catch(ignoreConflict);
  }
}

function startOperatorProcess(kubeconfig: string, port: number): ChildProcess {
  const child = spawnOperator({ kubeconfig, port, stdio: ['ignore', 'ignore', 'inherit'] });
  child.once('exit', (code) => {
    if (code !== 0 && code !== null) console.error(`panalysis: the operator exited with code ${code}`);
  });
  return child;
}

async function printSessions(kc: KubeConfig): Promise<void> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  await waitFor('the demo sessions to run', async () => {
    const list = (await custom.listNamespacedCustomObject({ ...G, namespace: DEMO_NAMESPACE })) as { items: AnalysisSession[] };
    return list.items.length >= DEMO_SESSIONS.length && list.items.every((s) => s.status?.phase === 'Running');
  }, 120_000);
  const list = (await custom.listNamespacedCustomObject({ ...G, namespace: DEMO_NAMESPACE })) as { items: AnalysisSession[] };
  console.log(`\n${'SESSION'.padEnd(16)}${'USER'.padEnd(8)}${'TYPE'.padEnd(9)}${'GPU'.padEnd(10)}${'PHASE'.padEnd(9)}${'NODE'.padEnd(18)}URL`);
  for (const s of list.items) {
    console.log(`${s.metadata.name!.padEnd(16)}${s.spec.user.padEnd(8)}${s.spec.type.padEnd(9)}${(s.status?.gpu ?? '-').padEnd(10)}${(s.status?.phase ?? '').padEnd(9)}${(s.status?.node ?? '').padEnd(18)}${s.status?.url ?? ''}`);
  }
}

/** Runs until SIGINT/SIGTERM. */
export async function runUp(args: ParsedArgs): Promise<void> {
  let cluster: LocalCluster | undefined;
  let kubeconfig = process.env.KUBECONFIG;
  if (kubeconfig && !args.flags.local) {
    console.error(`Using the cluster of KUBECONFIG=${kubeconfig}`);
    await installCrds(kubeconfig);
    await installPlatform(kubeconfig);
  } else {
    cluster = await startLocalCluster({ name: stringFlag(args, 'name', 'panalysis-up') });
    kubeconfig = cluster.kubeconfig;
  }
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const port = await freePort();
  const operator = startOperatorProcess(kubeconfig, port);
  await createDemo(kc);
  await printSessions(kc);
  const bin = cluster ? `${cluster.binaries.k8sBinDir}/` : '';
  console.log(`
panalysis is up: operator metrics on http://127.0.0.1:${port}/metrics

In another terminal:
  export KUBECONFIG=${kubeconfig}
  ${bin}kubectl get panalysis -A
  ${bin}kubectl -n ${DEMO_NAMESPACE} describe asession demo-desktop
  ${bin}kubectl -n ${DEMO_NAMESPACE} get pods -o wide
  ${bin}kubectl -n ${DEMO_NAMESPACE} get datasetmounts,pvc
  ${bin}kubectl apply -f manifests/samples/    # after creating namespace proposal-20231234

Press Ctrl-C to stop.`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  operator.kill('SIGTERM');
  await new Promise((r) => operator.once('exit', r));
  if (cluster) await cluster.stop(true);
}

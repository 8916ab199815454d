// SPDX-License-Identifier: Apache-2.0
/**
 * `panalysis up`: the embedded default. Without KUBECONFIG it starts a local control
 * plane; then it installs the CRDs, runs the operator with the demo configuration (which
 * gives every proposal a facility default quota), creates a demo proposal namespace with a
 * dataset and two sessions on kwok nodes (and, with a real node, a JupyterLab there on the demo's
 * scans and a desktop), runs the gateway with a local OpenID provider and a demo login, prints
 * their status and the URLs to open, and runs until Ctrl-C.
 */
import type { ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type { ParsedArgs } from './args.ts';
import { stringFlag } from './args.ts';
import { spawnOperator } from '../operator/spawn.ts';
import { installCrds, installPlatform } from '../cluster/install.ts';
import { clusterDir, startLocalCluster } from '../cluster/local-cluster.ts';
import { cleanupRealNode } from '../cluster/real-node-cleanup.ts';
import { realNodeSupport } from '../cluster/real-node.ts';
import { killFromPidFiles } from '../cluster/supervisor.ts';
import { handleShutdown } from './shutdown.ts';
import { writeDemoConfig } from './demo-config.ts';
import { DEMO_LOGIN, prepareDemoAccess, startDemoGateway } from './up-gateway.ts';
import type { DemoAccess } from './up-gateway.ts';
import { sessionUrl } from '../desired/session-url.ts';
import type { LocalCluster } from '../cluster/local-cluster.ts';
import { freePort, waitFor } from '../cluster/wait.ts';
import { LABELS } from '../api/v1alpha1/group.ts';
import type { AnalysisSession } from '../api/v1alpha1/analysis-session.ts';
import type { DatasetMountSpec } from '../api/v1alpha1/dataset-mount.ts';

/** The demo proposal's namespace. */
export const DEMO_NAMESPACE = 'proposal-demo';
const DEMO_SESSIONS: Array<{ name: string; spec: AnalysisSession['spec'] }> = [
  { name: 'demo-notebook', spec: { user: 'demo', type: 'jupyter', profile: 'jupyter-scipy', lifetime: '8h', datasets: [{ name: 'raw' }] } },
  { name: 'demo-desktop', spec: { user: 'demo', type: 'desktop', profile: 'desktop-xfce', desktop: { protocol: 'guacamole' }, resources: { gpu: { flavour: 'a100', count: 1 } } } },
];
/** The session that really runs, on the real node, reading the demo data. */
const REAL_SESSION = { name: 'demo-lab', spec: { user: 'demo', type: 'jupyter', profile: 'jupyter-local', lifetime: '8h', datasets: [{ name: 'scans' }] } } as const;
/** A desktop that really runs, on the real node. */
const REAL_DESKTOP = { name: 'demo-desk', spec: { user: 'demo', type: 'desktop', profile: 'desktop-local', lifetime: '8h', desktop: { protocol: 'vnc' } } } as const;
const DEMO_DATASET: DatasetMountSpec = { source: { nfs: { server: 'nfs01.facility.example', path: '/exp/demo/raw' } }, access: { readGroups: ['pdemo'] }, mountPath: '/data/raw', description: 'Raw data of the demo proposal' };
/** The demo proposal's group in the demo directory (pdemo). */
const DEMO_GID = 30100;
const G = { group: 'panalysis.io', version: 'v1alpha1', plural: 'analysissessions' };

function ignoreConflict(err: unknown): void {
  if ((err as { code?: number }).code !== 409) throw err;
}

/**
 * The demo proposal's data on this machine, as a facility file system would hold it: a directory
 * owned by the proposal's group, mode 0750, with a small scan. Returns the directory.
 */
function makeDemoData(root: string): string {
  const dir = join(root, 'demo', 'scans');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'scan-0001.csv');
  writeFileSync(file, 'angle_deg,counts\n0.0,12\n0.5,40\n1.0,97\n1.5,41\n2.0,11\n');
  for (const [p, mode] of [[file, 0o640], [dir, 0o750]] as const) {
    chownSync(p, 0, DEMO_GID);
    chmodSync(p, mode);
  }
  return dir;
}

async function createDemo(kc: KubeConfig, realData: string | undefined): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const labels = { [LABELS.proposal]: 'demo', 'pod-security.kubernetes.io/enforce': 'restricted' };
  await core.createNamespace({ body: { metadata: { name: DEMO_NAMESPACE, labels } } }).catch(ignoreConflict);
  await waitFor('the demo namespace', async () => Boolean(await core.readNamespacedServiceAccount({ name: 'default', namespace: DEMO_NAMESPACE })), 30_000);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const datasets: Array<{ name: string; spec: DatasetMountSpec }> = [{ name: 'raw', spec: DEMO_DATASET }];
  if (realData) datasets.push({ name: 'scans', spec: { source: { hostPath: { path: realData } }, access: { readGroups: ['pdemo'] }, mountPath: '/data/scans', description: 'Scans of the demo proposal, on this machine' } });
  for (const d of datasets) {
    const body = { apiVersion: 'panalysis.io/v1alpha1', kind: 'DatasetMount', metadata: { name: d.name }, spec: d.spec };
    await custom.createNamespacedCustomObject({ group: 'panalysis.io', version: 'v1alpha1', plural: 'datasetmounts', namespace: DEMO_NAMESPACE, body }).catch(ignoreConflict);
  }
  for (const s of realData ? [...DEMO_SESSIONS, REAL_SESSION, REAL_DESKTOP] : DEMO_SESSIONS) {
    const body = { apiVersion: 'panalysis.io/v1alpha1', kind: 'AnalysisSession', metadata: { name: s.name }, spec: s.spec };
    await custom.createNamespacedCustomObject({ ...G, namespace: DEMO_NAMESPACE, body }).catch(ignoreConflict);
  }
}

function startOperatorProcess(kubeconfig: string, port: number, config: string): ChildProcess {
  const child = spawnOperator({ kubeconfig, port, config, stdio: ['ignore', 'ignore', 'inherit'] });
  child.once('exit', (code) => {
    if (code !== 0 && code !== null) console.error(`panalysis: the operator exited with code ${code}`);
  });
  return child;
}

async function printSessions(kc: KubeConfig, sessions: number): Promise<void> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  await waitFor('the demo sessions to run', async () => {
    const list = (await custom.listNamespacedCustomObject({ ...G, namespace: DEMO_NAMESPACE })) as { items: AnalysisSession[] };
    return list.items.length >= sessions && list.items.every((s) => s.status?.phase === 'Running');
  }, 180_000);
  const list = (await custom.listNamespacedCustomObject({ ...G, namespace: DEMO_NAMESPACE })) as { items: AnalysisSession[] };
  console.log(`\n${'SESSION'.padEnd(16)}${'USER'.padEnd(8)}${'TYPE'.padEnd(9)}${'GPU'.padEnd(10)}${'PHASE'.padEnd(9)}NODE`);
  for (const s of list.items) {
    console.log(`${s.metadata.name!.padEnd(16)}${s.spec.user.padEnd(8)}${s.spec.type.padEnd(9)}${(s.status?.gpu ?? '-').padEnd(10)}${(s.status?.phase ?? '').padEnd(9)}${s.status?.node ?? ''}`);
  }
}

/** Stops `child` with SIGTERM, or SIGKILL after `graceMs`; resolves when it is gone. */
async function stopChild(child: ChildProcess | undefined, graceMs: number): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Runs until SIGINT/SIGTERM, then stops the operator and the local cluster within about
 * 3 seconds; a second Ctrl-C kills everything at once. Ctrl-C during start-up stops
 * what has started so far.
 */
export async function runUp(args: ParsedArgs): Promise<void> {
  const name = stringFlag(args, 'name', 'panalysis-up');
  const external = Boolean(process.env.KUBECONFIG && !args.flags.local);
  let cluster: LocalCluster | undefined;
  let operator: ChildProcess | undefined;
  let access: DemoAccess | undefined;
  const configDir = mkdtempSync(join(tmpdir(), 'panalysis-up-'));
  const removeConfig = () => rmSync(configDir, { recursive: true, force: true });
  const killLocal = async (): Promise<void> => {
    await killFromPidFiles(join(clusterDir(name), 'pids'));
    // A real node that was starting leaves containers and mounts under the state: remove them first, and keep the
    // state (for `panalysis cluster down`) when something could not be removed.
    const problems = cleanupRealNode(clusterDir(name), name);
    if (problems.length) console.error(`panalysis: could not remove everything the real node left (${problems.join('; ')}); run 'panalysis cluster down --name ${name}'`);
    else rmSync(clusterDir(name), { recursive: true, force: true });
  };
  const shutdown = handleShutdown(async () => {
    operator?.kill('SIGKILL');
    await access?.stop().catch(() => undefined);
    removeConfig();
    if (!external) await killLocal();
  });
  const started = Date.now();
  const up = async (): Promise<void> => {
    let kubeconfig = process.env.KUBECONFIG!;
    if (external) {
      console.error(`Using the cluster of KUBECONFIG=${kubeconfig}`);
      await installCrds(kubeconfig);
      await installPlatform(kubeconfig);
    } else {
      cluster = await startWithRealNode(name, !args.flags['no-real-node']);
      kubeconfig = cluster.kubeconfig;
    }
    if (shutdown.isRequested()) return;
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const port = await freePort();
    const realData = cluster?.realNode ? makeDemoData(join(cluster.dir, 'demo-data')) : undefined;
    access = await prepareDemoAccess(configDir);
    const config = writeDemoConfig(configDir, realData ? [dirname(dirname(realData))] : [], access.gatewayConfig);
    operator = startOperatorProcess(kubeconfig, port, config);
    await startDemoGateway(access, config, kc);
    await createDemo(kc, realData);
    await printSessions(kc, DEMO_SESSIONS.length + (realData ? 2 : 0));
    printNextSteps(kubeconfig, port, cluster, access.baseUrl);
  };
  const failed = await Promise.race([up().then(() => undefined, (err: unknown) => err), shutdown.requested.then(() => undefined)]);
  if (!failed && !shutdown.isRequested()) await shutdown.requested;
  const stopping = Date.now();
  await Promise.all([stopChild(operator, 1_500), access?.stop().catch(() => undefined)]);
  removeConfig();
  if (cluster) await cluster.stop(true, 1_500);
  else if (!external) await killLocal(); // still starting: stop what has started
  shutdown.dispose();
  if (failed) throw failed;
  console.error(`panalysis stopped in ${((Date.now() - stopping) / 1000).toFixed(1)} s (it ran ${Math.round((stopping - started) / 1000)} s).`);
  process.exit(0);
}

/**
 * The local cluster with its real node where this machine can run one (unless `wanted` is false);
 * where it cannot, or the node fails to start, one line says why and the cluster runs on kwok nodes only.
 */
async function startWithRealNode(name: string, wanted: boolean): Promise<LocalCluster> {
  const support = realNodeSupport();
  if (wanted && !support.ok) console.error(`panalysis: no real node (${support.why}); the sessions run on kwok nodes only`);
  if (!wanted || !support.ok) return startLocalCluster({ name });
  try {
    return await startLocalCluster({ name, realNode: true });
  } catch (err) {
    console.error(`panalysis: ${(err as Error).message}; starting without it`);
    return startLocalCluster({ name });
  }
}

function printNextSteps(kubeconfig: string, port: number, cluster: LocalCluster | undefined, gateway: string): void {
  const bin = cluster ? `${cluster.binaries.k8sBinDir}/` : '';
  const url = (name: string) => sessionUrl({ baseUrl: gateway, routing: 'subdomain', sessionDomain: 'sessions.localhost' }, DEMO_NAMESPACE, name);
  const where = cluster?.realNode
    ? `Open a session in a browser on this machine and sign in as ${DEMO_LOGIN.username} / ${DEMO_LOGIN.password}:
  ${url(REAL_SESSION.name)}    JupyterLab on the real node ${cluster.realNode.name}, the demo scans at /data/scans
  ${url(REAL_DESKTOP.name)}    a desktop (noVNC) on the real node
  ${gateway}/    the sessions you may open
The other sessions run on kwok nodes (no containers): the gateway shows them but has nothing to connect to.`
    : `The sessions run on kwok nodes (no containers); the gateway at ${gateway}/ (sign in as ${DEMO_LOGIN.username} / ${DEMO_LOGIN.password}) lists them, with nothing to connect to.`;
  console.log(`
panalysis is up: operator metrics on http://127.0.0.1:${port}/metrics
${where}

In another terminal:
  export KUBECONFIG=${kubeconfig}
  ${bin}kubectl get panalysis -A
  ${bin}kubectl get pquota -A    # the facility default quota of each proposal
  ${bin}kubectl -n ${DEMO_NAMESPACE} describe asession demo-desktop
  ${bin}kubectl -n ${DEMO_NAMESPACE} get pods -o wide
  ${bin}kubectl -n ${DEMO_NAMESPACE} get datasetmounts,pvc
  ${bin}kubectl apply -f manifests/samples/    # after creating namespace proposal-20231234

Press Ctrl-C to stop.`);
}

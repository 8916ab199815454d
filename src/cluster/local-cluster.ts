// SPDX-License-Identifier: Apache-2.0
/**
 * A real local Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler and kwok (fake nodes, incl. GPU nodes) on loopback, from cached
 * binaries, and optionally one real node (containerd + kubelet, see real-node.ts). Used by
 * `panalysis cluster up`, `panalysis up` and the integration tests.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ensureBinaries } from './binaries.ts';
import type { Binaries } from './binaries.ts';
import { apiserverSpec, controllerManagerSpec, etcdSpec, kwokSpec, schedulerSpec } from './components.ts';
import type { ClusterLayout } from './components.ts';
import { applyObjects, installCrds, installPlatform, createNodes, LOCAL_STORAGE_CLASS, waitNodesReady } from './install.ts';
import { BUILTIN_USERS, buildKubeconfig, buildTokenFile, newToken, writeKubeconfig } from './kubeconfig.ts';
import type { LocalUser } from './kubeconfig.ts';
import { DEFAULT_NODE_LAYOUT } from './nodes.ts';
import type { NodeLayout } from './nodes.ts';
import { ensureImages } from './images.ts';
import { createPki } from './pki.ts';
import { watchLocalHomes } from './local-homes.ts';
import { cleanupRealNode } from './real-node-cleanup.ts';
import { assertRealNodeSupport, startRealNode } from './real-node.ts';
import type { LocalImage } from './real-node.ts';
import type { Pki } from './pki.ts';
import { Supervisor } from './supervisor.ts';
import { freePorts, probe, waitFor } from './wait.ts';

/** Options of {@link startLocalCluster}. */
export interface LocalClusterOptions {
  /** Cluster name; its state lives in `<stateRoot>/clusters/<name>`. */
  name?: string;
  /** Nodes to create (default 3 CPU, 2 A100, 1 MIG). */
  nodes?: NodeLayout;
  /** Extra identities with tokens (e.g. a portal, scientists). */
  users?: LocalUser[];
  /** Install the panalysis CRDs (default true). */
  installCrds?: boolean;
  /**
   * Start a real node too (containerd + kubelet, label and taint `panalysis.io/real-node`);
   * default false. Check `realNodeSupport()` first: when it cannot start, startLocalCluster
   * throws one line naming the cause and stops everything.
   */
  realNode?: boolean;
  /** Images to import into the real node; default: the session images (`ensureImages()`, built once). */
  images?: LocalImage[] | (() => Promise<LocalImage[]>);
  /** The real node's pause image (default the images' pause, localhost/panalysis/pause:3.10). */
  pauseImage?: string;
  log?: (msg: string) => void;
}

/** A running local cluster. */
export interface LocalCluster {
  name: string;
  dir: string;
  /** kubeconfig of the `admin` user (system:masters). */
  kubeconfig: string;
  server: string;
  caFile: string;
  etcdUrl: string;
  binaries: Binaries;
  supervisor: Supervisor;
  /** The real node, when started with `realNode: true`. */
  realNode?: { name: string; ip: string; podSubnet: string };
  /** Bearer token of each user, by name. */
  tokens: Record<string, string>;
  /** Writes (once) and returns a kubeconfig for `user`. */
  kubeconfigFor(user: string): string;
  /** Stops every process; with `removeState`, deletes the state directory too. */
  stop(removeState?: boolean, graceMs?: number): Promise<void>;
}

/** Root of clusters' state: $PANALYSIS_STATE, else ~/.local/state/panalysis. */
export function stateRoot(): string {
  return process.env.PANALYSIS_STATE ?? join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'panalysis');
}

/** State directory of the cluster `name`. */
export function clusterDir(name: string): string {
  return join(stateRoot(), 'clusters', name);
}

async function layoutFor(dir: string): Promise<ClusterLayout> {
  const [etcdPort, etcdPeerPort, apiserverPort, controllerManagerPort, schedulerPort, kwokPort] = (await freePorts(6)) as [number, number, number, number, number, number];
  return {
    dir,
    etcdPort, etcdPeerPort, apiserverPort, controllerManagerPort, schedulerPort, kwokPort,
    tokenFile: join(dir, 'tokens.csv'),
    kubeconfigs: { controllerManager: join(dir, 'kube-controller-manager.kubeconfig'), scheduler: join(dir, 'kube-scheduler.kubeconfig'), kwok: join(dir, 'kwok.kubeconfig') },
  };
}

/** Everything written before the first process starts: PKI, tokens, kubeconfigs, kwok configuration. */
interface PreparedState {
  name: string;
  dir: string;
  layout: ClusterLayout;
  pki: Pki;
  server: string;
  ca: string;
  kubeconfig: string;
  tokens: Map<string, { user: LocalUser; token: string }>;
}

const KWOK_OPTIONS = 'options:\n  podPlayStageParallelism: 4\n  nodePlayStageParallelism: 4\n  nodeLeaseParallelism: 4\n  podsOnNodeSyncParallelism: 1\n  enablePodsOnNodeSyncListPager: true\n  enablePodsOnNodeSyncStreamWatch: false\n';

async function prepareState(name: string, users: LocalUser[]): Promise<PreparedState> {
  const dir = clusterDir(name);
  for (const sub of ['pki', 'etcd', 'logs', 'pids']) mkdirSync(join(dir, sub), { recursive: true });
  const pki = createPki(join(dir, 'pki'));
  const layout = await layoutFor(dir);
  const tokens = new Map([...BUILTIN_USERS, ...users].map((user) => [user.name, { user, token: newToken() }]));
  writeFileSync(layout.tokenFile, buildTokenFile(tokens), { mode: 0o600 });
  const server = `https://127.0.0.1:${layout.apiserverPort}`;
  const ca = readFileSync(pki.caCert, 'utf8');
  const kubeconfigOf = (user: string) => buildKubeconfig(server, ca, user, tokens.get(user)!.token);
  writeKubeconfig(layout.kubeconfigs.controllerManager, kubeconfigOf('system:kube-controller-manager'));
  writeKubeconfig(layout.kubeconfigs.scheduler, kubeconfigOf('system:kube-scheduler'));
  writeKubeconfig(layout.kubeconfigs.kwok, kubeconfigOf('kwok'));
  const stages = readFileSync(join(import.meta.dirname, 'kwok-stages.yaml'), 'utf8');
  writeFileSync(join(dir, 'kwok.yaml'), `apiVersion: config.kwok.x-k8s.io/v1alpha1\nkind: KwokConfiguration\n${KWOK_OPTIONS}${stages}`);
  const kubeconfig = join(dir, 'kubeconfig');
  writeKubeconfig(kubeconfig, kubeconfigOf('admin'));
  return { name, dir, layout, pki, server, ca, kubeconfig, tokens };
}

/** Starts the processes in order, each once the one it needs is healthy, then nodes and CRDs. */
async function startComponents(st: PreparedState, binaries: Binaries, supervisor: Supervisor, opts: LocalClusterOptions): Promise<LocalCluster['realNode']> {
  const { layout, pki, server, ca, kubeconfig } = st;
  const logOf = (c: string) => `see ${join(st.dir, 'logs', c + '.log')}`;
  const healthy = (port: number) => async () => (await probe(`https://127.0.0.1:${port}/healthz`, { insecure: true })) === 200;
  supervisor.start(etcdSpec(binaries, layout));
  await waitFor('etcd', async () => (await probe(`http://127.0.0.1:${layout.etcdPort}/health`)) === 200, 30_000, logOf('etcd'));
  supervisor.start(apiserverSpec(binaries, layout, pki, opts.realNode === true));
  const token = st.tokens.get('admin')!.token;
  await waitFor('kube-apiserver', async () => (await probe(`${server}/readyz`, { ca, token })) === 200, 90_000, logOf('kube-apiserver'));
  supervisor.start(controllerManagerSpec(binaries, layout, pki));
  supervisor.start(schedulerSpec(binaries, layout));
  supervisor.start(kwokSpec(binaries, layout));
  await waitFor('kube-controller-manager', healthy(layout.controllerManagerPort), 60_000, logOf('kube-controller-manager'));
  await waitFor('kube-scheduler', healthy(layout.schedulerPort), 60_000, logOf('kube-scheduler'));
  await createNodes(kubeconfig, opts.nodes ?? DEFAULT_NODE_LAYOUT);
  await applyObjects(kubeconfig, [LOCAL_STORAGE_CLASS]);
  await waitNodesReady(kubeconfig, 60_000, logOf('kwok'));
  if (opts.installCrds !== false) {
    await installCrds(kubeconfig);
    await installPlatform(kubeconfig);
  }
  if (!opts.realNode) return undefined;
  const node = await startRealNode({
    name: st.name, clusterDir: st.dir, pkiDir: join(st.dir, 'pki'), caCert: pki.caCert, server, kubectl: binaries.kubectl, kubeconfig,
    supervisor, images: await realNodeImages(opts), pauseImage: opts.pauseImage, log: opts.log ?? ((m) => console.error(`panalysis: ${m}`)),
  });
  return { name: node.nodeName, ip: node.nodeIp, podSubnet: node.paths.subnet };
}

/** The images to import: the option, else the session images. */
async function realNodeImages(opts: LocalClusterOptions): Promise<LocalImage[]> {
  try {
    if (typeof opts.images === 'function') return await opts.images();
    return opts.images ?? await ensureImages();
  } catch (err) {
    throw new Error(`the real node could not start: its images could not be built: ${(err as Error).message}; run without it with --no-real-node (realNode: false)`, { cause: err });
  }
}

/**
 * Starts a local cluster and waits until it is usable: apiserver ready, controller
 * manager and scheduler healthy, nodes Ready, CRDs established.
 * @throws Error naming the component that did not come up and its log file; every
 * process started so far is stopped first.
 */
export async function startLocalCluster(opts: LocalClusterOptions = {}): Promise<LocalCluster> {
  const name = opts.name ?? 'panalysis';
  const log = opts.log ?? ((msg: string) => console.error(`panalysis: ${msg}`));
  if (opts.realNode) assertRealNodeSupport();
  const binaries = ensureBinaries();
  const st = await prepareState(name, opts.users ?? []);
  const supervisor = new Supervisor(join(st.dir, 'logs'), join(st.dir, 'pids'), log);
  let realNode: LocalCluster['realNode'];
  try {
    realNode = await startComponents(st, binaries, supervisor, opts);
  } catch (err) {
    await supervisor.stop(2000);
    if (opts.realNode) cleanupRealNode(st.dir, name).forEach((p) => log(`Cleaning up the real node: ${p}`));
    throw err;
  }
  const { dir, server, kubeconfig, layout, tokens } = st;
  // Homes the user can write on the real node (the provisioner makes them root-owned 0750).
  const homes = realNode ? watchLocalHomes() : undefined;
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify({ name, server, kubeconfig, supervisorPid: process.pid, k8sBinDir: binaries.k8sBinDir, layout, realNode }, null, 2));
  log(`Started local cluster ${name} (Kubernetes ${binaries.k8sVersion}) at ${server}`);
  return {
    name, dir, kubeconfig, server, caFile: st.pki.caCert, etcdUrl: `http://127.0.0.1:${layout.etcdPort}`, binaries, supervisor, realNode,
    tokens: Object.fromEntries([...tokens].map(([k, v]) => [k, v.token])),
    kubeconfigFor(user: string): string {
      if (!tokens.has(user)) throw new Error(`no local user ${user}; add it to LocalClusterOptions.users`);
      const path = join(dir, `${user.replace(/[^A-Za-z0-9_.-]/g, '_')}.kubeconfig`);
      writeKubeconfig(path, buildKubeconfig(server, st.ca, user, tokens.get(user)!.token));
      return path;
    },
    async stop(removeState = false, graceMs?: number) {
      homes?.stop();
      await supervisor.stop(graceMs);
      const problems = realNode ? cleanupRealNode(dir, name) : [];
      problems.forEach((p) => log(`Cleaning up the real node: ${p}`));
      // Never remove the state under a mount the node left: `panalysis cluster down` tries again.
      if (removeState && problems.length === 0) rmSync(dir, { recursive: true, force: true });
    },
  };
}

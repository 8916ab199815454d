// SPDX-License-Identifier: Apache-2.0
/**
 * The local cluster's real node: containerd and a kubelet under the cluster's Supervisor, a CNI
 * bridge the host reaches pod IPs through (the cleanup `cluster down` runs is in
 * real-node-cleanup.ts). Binaries come from the cache (scripts/build-control-plane.sh with
 * PANALYSIS_REAL_NODE=1), runc and the CNI plugins from Debian (scripts/preflight.sh).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { cacheDir, readVersions } from './binaries.ts';
import { createNodePki } from './pki.ts';
import { KUBERNETES_SERVICE_IP } from './components.ts';
import {
  CNI_BIN_DIR, DEFAULT_PAUSE_IMAGE, REAL_NODE_NAME, apiServiceRules, cniConfig, cniLoopbackConfig, containerdConfig, freeSubnet, kubeletArgs,
  kubeletConfig, realNodePaths,
} from './real-node-config.ts';
import type { RealNodePaths } from './real-node-config.ts';
import type { Supervisor } from './supervisor.ts';
import { cleanupRealNode } from './real-node-cleanup.ts';
import { cgroupHierarchies, recordHostState, run, SBIN_PATH, tryRun } from './real-node-host.ts';
import { freePorts, waitFor } from './wait.ts';

/** An image archive to import (the shape src/cluster/images.ts exports). */
export interface LocalImage {
  name: string;
  ref: string;
  archive: string;
}

/** Whether this machine can run the real node, and if not, why (one line). */
export type RealNodeSupport = { ok: true } | { ok: false; why: string };

/** Paths of the binaries the real node runs. */
export interface RealNodeBinaries {
  kubelet: string;
  containerd: string;
  ctr: string;
  /** Directory of containerd and its shim (put first on containerd's PATH). */
  containerdDir: string;
  runc: string;
}

const RUNC_PATHS = ['/usr/sbin/runc', '/usr/bin/runc', '/usr/local/sbin/runc', '/usr/local/bin/runc'];
const CNI_PLUGINS = ['bridge', 'host-local', 'loopback', 'portmap'];

/** Where the real node's binaries are (existing or not). */
export function realNodeBinaries(): RealNodeBinaries {
  const v = readVersions() as Record<string, string>;
  const bin = join(cacheDir(), 'bin');
  const containerdDir = join(bin, `containerd-${v.CONTAINERD_VERSION}`);
  return {
    kubelet: join(bin, `kubelet-${v.K8S_VERSION}`, 'kubelet'),
    containerd: join(containerdDir, 'containerd'),
    ctr: join(containerdDir, 'ctr'),
    containerdDir,
    runc: RUNC_PATHS.find((p) => existsSync(p)) ?? 'runc',
  };
}

function onPath(tool: string): boolean {
  return SBIN_PATH.split(':').some((d) => existsSync(join(d, tool)));
}

/**
 * Checks what the real node needs: Linux, root, cgroups, overlayfs, the cached kubelet and
 * containerd, runc, the CNI plugins, iptables and ip. Cheap; starts nothing.
 */
export function realNodeSupport(): RealNodeSupport {
  const no = (why: string): RealNodeSupport => ({ ok: false, why });
  if (process.platform !== 'linux') return no('the real node needs Linux');
  if (process.getuid?.() !== 0) return no('the real node needs root (kubelet and containerd manage mounts, cgroups and network namespaces)');
  if (!existsSync('/sys/fs/cgroup/cgroup.controllers') && !existsSync('/sys/fs/cgroup/memory/cgroup.procs')) return no('no usable cgroup hierarchy under /sys/fs/cgroup (neither v2 nor a v1 memory controller)');
  if (!/\toverlay$/m.test(readFileSync('/proc/filesystems', 'utf8'))) return no("the kernel has no overlay filesystem (try 'modprobe overlay')");
  const b = realNodeBinaries();
  for (const f of [b.kubelet, b.containerd, b.ctr, join(b.containerdDir, 'containerd-shim-runc-v2')]) {
    if (!existsSync(f)) return no(`${f} is missing; build it with 'PANALYSIS_REAL_NODE=1 bash scripts/build-control-plane.sh' (or 'bash scripts/preflight.sh')`);
  }
  if (!existsSync(b.runc)) return no("runc is missing (Debian: apt-get install runc, or 'bash scripts/preflight.sh' as root)");
  const missingCni = CNI_PLUGINS.filter((p) => !existsSync(join(CNI_BIN_DIR, p)));
  if (missingCni.length) return no(`CNI plugins ${missingCni.join(', ')} are missing from ${CNI_BIN_DIR} (Debian: apt-get install containernetworking-plugins)`);
  for (const tool of ['iptables-save', 'iptables', 'ip', 'mount', 'umount']) {
    if (!onPath(tool)) return no(`${tool} is missing (Debian: apt-get install iptables iproute2 mount)`);
  }
  return { ok: true };
}

/**
 * Throws, when the real node cannot run here, the one line {@link startRealNode} would
 * (cause and `--no-real-node`); lets a caller fail before it starts anything.
 */
export function assertRealNodeSupport(): void {
  const support = realNodeSupport();
  if (!support.ok) throw failure(support.why);
}

/** The host's IPv4 address on the interface of the default route (kubelet refuses loopback). */
export function hostIPv4(): string {
  const ifaces = networkInterfaces();
  let iface: string | undefined;
  try {
    const line = readFileSync('/proc/net/route', 'utf8').split('\n').find((l) => l.split('\t')[1] === '00000000');
    iface = line?.split('\t')[0];
  } catch { /* no /proc/net/route: fall back to the first interface */ }
  const candidates = [...(iface ? [ifaces[iface] ?? []] : []), ...Object.values(ifaces).map((a) => a ?? [])].flat();
  const addr = candidates.find((a) => a.family === 'IPv4' && !a.internal);
  if (!addr) throw new Error('the real node needs a non-loopback IPv4 address on this host; none was found');
  return addr.address;
}

/** Options of {@link startRealNode}. */
export interface RealNodeOptions {
  name: string;
  clusterDir: string;
  pkiDir: string;
  caCert: string;
  server: string;
  /** kubectl and the admin kubeconfig, to wait for the node. */
  kubectl: string;
  kubeconfig: string;
  supervisor: Supervisor;
  images?: LocalImage[];
  pauseImage?: string;
  log: (msg: string) => void;
}

/** Prefix of every error of {@link startRealNode}, and how to do without. */
const HOW_WITHOUT = 'run without it with --no-real-node (realNode: false)';

function failure(cause: string, log?: string): Error {
  return new Error(`the real node could not start: ${cause}${log ? ` (see ${log})` : ''}; ${HOW_WITHOUT}`);
}

/** The cause a kubelet log states last ("command failed" err=...), if any. */
export function kubeletCause(logText: string): string | undefined {
  const lines = logText.split('\n').filter((l) => /command failed|Failed to run kubelet|failed to run Kubelet/.test(l));
  const last = lines.at(-1);
  if (!last) return undefined;
  const m = /err="((?:[^"\\]|\\.)*)"/.exec(last);
  return (m?.[1] !== undefined ? m[1].replace(/\\"/g, '"') : last).slice(0, 400);
}

function writeKubeletKubeconfig(path: string, server: string, ca: string, cert: string, key: string): void {
  writeFileSync(path, stringify({
    apiVersion: 'v1', kind: 'Config',
    clusters: [{ name: 'local', cluster: { server, 'certificate-authority': ca } }],
    users: [{ name: 'kubelet', user: { 'client-certificate': cert, 'client-key': key } }],
    contexts: [{ name: 'local', context: { cluster: 'local', user: 'kubelet' } }],
    'current-context': 'local',
  }), { mode: 0o600 });
}

/** The manifest digest an OCI archive's index.json names first, if readable. */
function archiveDigest(archive: string): string | undefined {
  const index = tryRun('tar', ['-xOf', archive, 'index.json']);
  if (!index) return undefined;
  try {
    return (JSON.parse(index) as { manifests?: { digest?: string }[] }).manifests?.[0]?.digest;
  } catch {
    return undefined;
  }
}

/** Imports `images` into containerd's k8s.io namespace, skipping those present with the same digest. */
function importImages(ctr: string, socket: string, images: LocalImage[], log: (m: string) => void): void {
  const base = ['--address', socket, '-n', 'k8s.io'];
  const listed = run(ctr, [...base, 'images', 'ls']).split('\n').slice(1).map((l) => l.split(/\s+/));
  for (const img of images) {
    const digest = archiveDigest(img.archive);
    if (digest && listed.some((cols) => cols[0] === img.ref && cols[2] === digest)) continue;
    const started = Date.now();
    try {
      run(ctr, [...base, 'images', 'import', '--all-platforms', img.archive]);
    } catch (err) {
      const e = err as { stderr?: string };
      throw failure(`importing image ${img.ref} from ${img.archive} failed: ${(e.stderr ?? String(err)).trim().split('\n').at(-1)}`);
    }
    const seen = run(ctr, [...base, 'images', 'ls', '-q']).split('\n');
    if (!seen.includes(img.ref)) throw failure(`the archive ${img.archive} did not provide the image ${img.ref}`);
    log(`Imported ${img.ref} into the real node in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

/**
 * In-cluster clients (the Helm chart's operator and gateway) reach the API at the kubernetes
 * Service address: the pod bridge is made before the CNI plugin would (which then uses it) with
 * `route_localnet`, so that the DNAT of {@link apiServiceRules} may lead to the apiserver on
 * 127.0.0.1. Both go with the bridge and the recorded iptables state at `cluster down`.
 */
function routePodsToApiserver(p: RealNodePaths, apiserverPort: number): void {
  const step = (what: string, command: string, args: string[]): void => {
    try {
      run(command, args);
    } catch (err) {
      throw failure(`cannot route pods to the apiserver (${what}): ${((err as { stderr?: string }).stderr ?? String(err)).trim()}`);
    }
  };
  if (!existsSync(join('/sys/class/net', p.bridge))) step(`creating the bridge ${p.bridge}`, 'ip', ['link', 'add', p.bridge, 'type', 'bridge']);
  step(`bringing ${p.bridge} up`, 'ip', ['link', 'set', p.bridge, 'up']);
  try {
    writeFileSync(`/proc/sys/net/ipv4/conf/${p.bridge}/route_localnet`, '1\n');
  } catch (err) {
    throw failure(`cannot route pods to the apiserver (route_localnet on ${p.bridge}): ${(err as Error).message}`);
  }
  for (const rule of apiServiceRules(p, KUBERNETES_SERVICE_IP, apiserverPort)) step(`iptables ${rule.join(' ')}`, 'iptables', ['-w', '5', ...rule]);
}

/**
 * Starts containerd and the kubelet under `opts.supervisor` (after the control plane), imports
 * the images, and waits until the node is Ready.
 * @throws Error of one line naming the cause and `--no-real-node`; the caller stops the
 * supervisor and runs {@link cleanupRealNode}.
 */
export async function startRealNode(opts: RealNodeOptions): Promise<{ nodeName: string; nodeIp: string; paths: RealNodePaths }> {
  assertRealNodeSupport();
  cleanupRealNode(opts.clusterDir, opts.name);
  const named = realNodePaths(opts.clusterDir, opts.name);
  const p = { ...named, ...freeSubnet(named.subnet, tryRun('ip', ['-4', 'route']) ?? '') };
  const b = realNodeBinaries();
  for (const d of [p.dir, p.containerdRoot, p.containerdState, p.cniConfDir, p.cniIpamDir, p.kubeletRoot, p.podLogsDir]) mkdirSync(d, { recursive: true });
  const nodeIp = hostIPv4();
  const certs = createNodePki(opts.pkiDir, REAL_NODE_NAME, nodeIp);
  writeKubeletKubeconfig(p.kubeletKubeconfig, opts.server, opts.caCert, certs.clientCert, certs.clientKey);
  writeFileSync(p.containerdConfig, containerdConfig(p, opts.pauseImage ?? DEFAULT_PAUSE_IMAGE, b.runc));
  writeFileSync(join(p.cniConfDir, '10-panalysis.conflist'), cniConfig(p));
  writeFileSync(join(p.cniConfDir, '99-loopback.conf'), cniLoopbackConfig());
  const [kubeletPort, healthzPort] = (await freePorts(2)) as [number, number];
  writeFileSync(p.kubeletConfig, kubeletConfig(p, {
    caCert: opts.caCert, tlsCert: certs.servingCert, tlsKey: certs.servingKey, port: kubeletPort, healthzPort, address: nodeIp,
  }));
  recordHostState(p);
  routePodsToApiserver(p, Number(new URL(opts.server).port));
  for (const h of cgroupHierarchies()) {
    try {
      mkdirSync(join(h, p.cgroupRoot), { recursive: true });
    } catch (err) {
      throw failure(`cannot create the cgroup ${join(h, p.cgroupRoot)}: ${(err as Error).message}`);
    }
  }
  const logs = join(opts.clusterDir, 'logs');
  const path = `${b.containerdDir}:${process.env.PATH ?? ''}:${SBIN_PATH}`;
  opts.supervisor.start({ name: 'containerd', command: b.containerd, args: [`--config=${p.containerdConfig}`], env: { PATH: path } });
  const containerdLog = join(logs, 'containerd.log');
  await waitFor('containerd', async () => existsSync(p.containerdSocket) && tryRun(b.ctr, ['--address', p.containerdSocket, 'version']) !== undefined, 30_000, `see ${containerdLog}`)
    .catch(() => { throw failure('containerd did not answer on its socket within 30 s', containerdLog); });
  importImages(b.ctr, p.containerdSocket, opts.images ?? [], opts.log);
  opts.supervisor.start({ name: 'kubelet', command: b.kubelet, args: kubeletArgs(p, nodeIp), env: { PATH: path } });
  const kubeletLog = join(logs, 'kubelet.log');
  const ready = async (): Promise<boolean> => {
    if (opts.supervisor.restarts('kubelet') > 0 || opts.supervisor.pid('kubelet') === undefined) {
      const cause = existsSync(kubeletLog) ? kubeletCause(readFileSync(kubeletLog, 'utf8')) : undefined;
      throw failure(`kubelet exited${cause ? `: ${cause}` : ''}`, kubeletLog);
    }
    const status = tryRun(opts.kubectl, ['--kubeconfig', opts.kubeconfig, 'get', 'node', REAL_NODE_NAME, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
    return status === 'True';
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (await ready()) break;
    if (Date.now() > deadline) throw failure(`node ${REAL_NODE_NAME} was not Ready within 90 s`, kubeletLog);
    await new Promise((r) => setTimeout(r, 500));
  }
  opts.log(`Real node ${REAL_NODE_NAME} is Ready at ${nodeIp} (pods on ${p.subnet} through ${p.bridge})`);
  return { nodeName: REAL_NODE_NAME, nodeIp, paths: p };
}

// SPDX-License-Identifier: Apache-2.0
/**
 * Pure builders of the local cluster's real node: paths, containerd's configuration, the CNI
 * bridge network, the KubeletConfiguration and command line, and what `cluster down` must undo
 * (iptables chains, sysctls). Everything lives under the cluster's state directory.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { stringify } from 'yaml';

/** Label every real node carries; session pods select it where a test wants a real container. */
export const REAL_NODE_LABEL = 'panalysis.io/real-node';
/**
 * Key of the real node's taint (`panalysis.io/real-node=true:NoSchedule`): only pods that
 * tolerate it land there (kwok nodes take the rest).
 */
export const REAL_NODE_TAINT = REAL_NODE_LABEL;
/** Toleration matching {@link REAL_NODE_TAINT}. */
export const REAL_NODE_TOLERATION = { key: REAL_NODE_LABEL, operator: 'Equal', value: 'true', effect: 'NoSchedule' } as const;
/** Name the real node registers with. */
export const REAL_NODE_NAME = 'real-node';
/** Default pause image (the images of src/cluster/images.ts provide it). */
export const DEFAULT_PAUSE_IMAGE = 'localhost/panalysis/pause:3.10';
/** Where Debian's containernetworking-plugins put the CNI plugins. */
export const CNI_BIN_DIR = '/usr/lib/cni';
/** Host sysctls the kubelet sets at start; recorded before and restored by `cluster down`. */
export const KUBELET_SYSCTLS = ['vm.overcommit_memory', 'vm.panic_on_oom', 'kernel.panic', 'kernel.panic_on_oops', 'kernel.keys.root_maxkeys', 'kernel.keys.root_maxbytes'];

/** Paths and names of one cluster's real node. */
export interface RealNodePaths {
  dir: string;
  containerdRoot: string;
  containerdState: string;
  containerdSocket: string;
  containerdConfig: string;
  cniConfDir: string;
  cniIpamDir: string;
  kubeletRoot: string;
  kubeletConfig: string;
  kubeletKubeconfig: string;
  podLogsDir: string;
  /** Host state recorded before start (sysctls, iptables), read by the cleanup. */
  hostStateFile: string;
  /** cgroup (v1, cgroupfs driver) under which every pod of this node runs. */
  cgroupRoot: string;
  /** Linux bridge of the pod network (at most 15 characters). */
  bridge: string;
  /** CNI network name (also the prefix of libcni's cache files). */
  network: string;
  /** Pod subnet, outside kwok's 10.244.0.0/16. */
  subnet: string;
  gateway: string;
  /** nat chain that takes pods' connections to the `kubernetes` Service address to the apiserver. */
  apiChain: string;
}

/** A short stable hash of the cluster name (keeps host-wide names per cluster). */
function short(name: string): string {
  return createHash('sha256').update(name).digest('hex').slice(0, 6);
}

/**
 * Paths of the real node of cluster `name` whose state lives in `clusterDir`. Host-wide names
 * (bridge, cgroup, network, subnet) depend on the name only, so a cleanup after a crash finds them.
 */
export function realNodePaths(clusterDir: string, name: string): RealNodePaths {
  const dir = join(clusterDir, 'node');
  const h = short(name);
  const third = parseInt(h.slice(0, 2), 16);
  return {
    dir,
    containerdRoot: join(dir, 'containerd', 'root'),
    containerdState: join(dir, 'containerd', 'state'),
    containerdSocket: join(dir, 'containerd', 'containerd.sock'),
    containerdConfig: join(dir, 'containerd', 'config.toml'),
    cniConfDir: join(dir, 'cni', 'net.d'),
    cniIpamDir: join(dir, 'cni', 'ipam'),
    kubeletRoot: join(dir, 'kubelet'),
    kubeletConfig: join(dir, 'kubelet-config.yaml'),
    kubeletKubeconfig: join(dir, 'kubelet.kubeconfig'),
    podLogsDir: join(dir, 'pod-logs'),
    hostStateFile: join(dir, 'host-state.json'),
    cgroupRoot: `/panalysis-${h}`,
    bridge: `pnl-${h}`,
    network: `panalysis-${h}`,
    subnet: `10.245.${third}.0/24`,
    gateway: `10.245.${third}.1`,
    apiChain: `PNL-API-${h}`,
  };
}

/**
 * The pod subnet to use: `preferred` (10.245.<n>.0/24 of {@link realNodePaths}) unless a route
 * of the host already covers it (another cluster's bridge), then the next free 10.245.<n>.0/24.
 * @param routes output of `ip -4 route`
 */
export function freeSubnet(preferred: string, routes: string): { subnet: string; gateway: string } {
  const used = new Set([...routes.matchAll(/^10\.245\.(\d+)\.0\/24 /gm)].map((m) => Number(m[1])));
  const start = Number(preferred.split('.')[2]);
  for (let i = 0; i < 256; i++) {
    const n = (start + i) % 256;
    if (!used.has(n)) return { subnet: `10.245.${n}.0/24`, gateway: `10.245.${n}.1` };
  }
  throw new Error('no free /24 left in 10.245.0.0/16 for the real node');
}

function tomlString(s: string): string {
  return `'${s.replace(/'/g, '')}'`;
}

/**
 * containerd 2.x configuration (version 3): own root, state and socket; CRI with runc
 * (cgroupfs), `restrict_oom_score_adj` (root here lacks CAP_SYS_RESOURCE, without it every
 * sandbox fails with "can't get final child's PID from pipe"), overlayfs, the given pause image,
 * CNI from {@link CNI_BIN_DIR}, network namespaces under the state dir, no NRI, no imports.
 */
export function containerdConfig(p: RealNodePaths, pauseImage: string, runc: string): string {
  const cri = "plugins.'io.containerd.cri.v1.runtime'";
  return [
    'version = 3',
    `root = ${tomlString(p.containerdRoot)}`,
    `state = ${tomlString(p.containerdState)}`,
    'imports = []',
    "disabled_plugins = ['io.containerd.nri.v1.nri', 'io.containerd.internal.v1.tracing']",
    '[grpc]',
    `  address = ${tomlString(p.containerdSocket)}`,
    "[plugins.'io.containerd.internal.v1.opt']",
    `  path = ${tomlString(join(p.dir, 'containerd', 'opt'))}`,
    "[plugins.'io.containerd.cri.v1.images']",
    "  snapshotter = 'overlayfs'",
    "[plugins.'io.containerd.cri.v1.images'.pinned_images]",
    `  sandbox = ${tomlString(pauseImage)}`,
    `[${cri}]`,
    '  restrict_oom_score_adj = true',
    '  netns_mounts_under_state_dir = true',
    '  enable_cdi = false',
    '  enable_criu = false',
    `[${cri}.containerd]`,
    "  default_runtime_name = 'runc'",
    `[${cri}.containerd.runtimes.runc]`,
    "  runtime_type = 'io.containerd.runc.v2'",
    `[${cri}.containerd.runtimes.runc.options]`,
    `  BinaryName = ${tomlString(runc)}`,
    '  SystemdCgroup = false',
    `[${cri}.cni]`,
    `  bin_dirs = [${tomlString(CNI_BIN_DIR)}]`,
    `  conf_dir = ${tomlString(p.cniConfDir)}`,
    "[plugins.'io.containerd.grpc.v1.cri']",
    "  stream_server_address = '127.0.0.1'",
    "  stream_server_port = '0'",
    '',
  ].join('\n');
}

/**
 * CNI network list: a bridge with host-local addresses (state under the cluster dir), loopback
 * and portmap. No masquerade: pods need no way out, and the host reaches them through the bridge.
 */
export function cniConfig(p: RealNodePaths): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: p.network,
    plugins: [
      {
        type: 'bridge', bridge: p.bridge, isGateway: true, ipMasq: false, hairpinMode: true,
        ipam: { type: 'host-local', dataDir: p.cniIpamDir, ranges: [[{ subnet: p.subnet, gateway: p.gateway }]], routes: [{ dst: '0.0.0.0/0' }] },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  }, null, 2) + '\n';
}

/** The loopback network every pod also gets. */
export function cniLoopbackConfig(): string {
  return JSON.stringify({ cniVersion: '1.0.0', name: 'lo', type: 'loopback' }) + '\n';
}

/** Files and ports a kubelet runs with. */
export interface KubeletInputs {
  caCert: string;
  tlsCert: string;
  tlsKey: string;
  port: number;
  healthzPort: number;
  /** Address the kubelet's port listens on (the node IP). */
  address: string;
}

/** The KubeletConfiguration (YAML). */
export function kubeletConfig(p: RealNodePaths, k: KubeletInputs): string {
  const config = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // This machine (and many CI runners) has cgroup v1 only; kubelet 1.35 refuses v1 unless told.
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    // A cgroup of this cluster's own (created before start, removed by `cluster down`).
    cgroupRoot: p.cgroupRoot,
    failSwapOn: false,
    containerRuntimeEndpoint: `unix://${p.containerdSocket}`,
    address: k.address,
    port: k.port,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: k.healthzPort,
    tlsCertFile: k.tlsCert,
    tlsPrivateKeyFile: k.tlsKey,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: k.caCert } },
    authorization: { mode: 'Webhook' },
    registerWithTaints: [{ key: REAL_NODE_TAINT, value: 'true', effect: 'NoSchedule' }],
    podLogsDir: p.podLogsDir,
    // No util chains of its own; the kubelet still adds a few, recorded and removed at `cluster down`.
    makeIPTablesUtilChains: false,
    // The kubelet refuses to start with protectKernelDefaults when the host differs from its
    // defaults, so it may set them; `cluster down` restores the values recorded before start.
    protectKernelDefaults: false,
    // Never collect images or evict pods because a shared development disk fills up.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: { 'memory.available': '50Mi', 'nodefs.available': '1%', 'nodefs.inodesFree': '1%', 'imagefs.available': '1%' },
    serializeImagePulls: false,
    maxPods: 50,
    resolvConf: '/etc/resolv.conf',
    logging: { format: 'text' },
  };
  // The written file says why as well, for whoever reads it on the machine.
  return stringify(config).replace(/^failCgroupV1: false$/m, `# ${CGROUP_V1_WHY}\nfailCgroupV1: false`);
}

const CGROUP_V1_WHY = 'this machine (and many CI runners) has cgroup v1 only; kubelet 1.35 refuses cgroup v1 unless failCgroupV1 is false';

/** kubelet's command line (flags that have no configuration field). */
export function kubeletArgs(p: RealNodePaths, nodeIp: string): string[] {
  return [
    `--config=${p.kubeletConfig}`, `--kubeconfig=${p.kubeletKubeconfig}`, `--root-dir=${p.kubeletRoot}`,
    `--hostname-override=${REAL_NODE_NAME}`, `--node-ip=${nodeIp}`, `--node-labels=${REAL_NODE_LABEL}=true`, '--v=1',
  ];
}

/** One iptables table as `iptables-save` prints it: chains and `-A` rules. */
interface Table {
  chains: Set<string>;
  rules: string[];
}

function parseSave(save: string): Map<string, Table> {
  const tables = new Map<string, Table>();
  let cur: Table | undefined;
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) {
      cur = { chains: new Set(), rules: [] };
      tables.set(line.slice(1).trim(), cur);
    } else if (cur && line.startsWith(':')) cur.chains.add(line.slice(1).split(' ')[0] ?? '');
    else if (cur && line.startsWith('-A ')) cur.rules.push(line.slice(3));
  }
  return tables;
}

const OURS = /^(KUBE-|CNI-|PNL-)/;

/**
 * `iptables` argument lists that give pods of the real node the API at the address in-cluster
 * clients use (`KUBERNETES_SERVICE_HOST`, the first address of the Service range, port 443),
 * as kube-proxy would: a nat chain of the node's own ({@link RealNodePaths.apiChain}) entered
 * from the pod bridge only, with one DNAT to the apiserver on 127.0.0.1, which so stays off the
 * network. That needs `route_localnet` on the pod bridge alone (see `startRealNode`); the
 * kubelet's firewall lets DNAT'ed connections to 127.0.0.0/8 through. The apiserver's serving
 * certificate names the Service address. `cluster down` removes the chain and its jump like the
 * kubelet's chains (see {@link iptablesUndo}), and the bridge with its setting.
 */
export function apiServiceRules(p: RealNodePaths, serviceIp: string, apiserverPort: number): string[][] {
  return [
    ['-t', 'nat', '-N', p.apiChain],
    ['-t', 'nat', '-A', p.apiChain, '-d', `${serviceIp}/32`, '-p', 'tcp', '--dport', '443', '-j', 'DNAT', '--to-destination', `127.0.0.1:${apiserverPort}`],
    ['-t', 'nat', '-A', 'PREROUTING', '-i', p.bridge, '-j', p.apiChain],
  ];
}

/**
 * `iptables` argument lists that undo what appeared between two `iptables-save` outputs:
 * rules (in any chain) that jump to or live in a KUBE-/CNI-/PNL- chain absent before are deleted,
 * then those chains flushed and removed. Chains that existed before are left alone.
 */
export function iptablesUndo(before: string, after: string): string[][] {
  const b = parseSave(before);
  const out: string[][] = [];
  const drops: string[][] = [];
  for (const [table, t] of parseSave(after)) {
    const old = b.get(table) ?? { chains: new Set<string>(), rules: [] };
    const fresh = [...t.chains].filter((c) => OURS.test(c) && !old.chains.has(c));
    const oldRules = new Set(old.rules);
    for (const rule of t.rules) {
      const chain = rule.split(' ')[0] ?? '';
      if (fresh.includes(chain) || oldRules.has(rule)) continue;
      const target = / -j (\S+)/.exec(rule)?.[1];
      const ownsRule = target !== undefined && fresh.includes(target);
      if (ownsRule) out.push(['-t', table, '-D', ...splitRule(rule)]);
    }
    for (const c of fresh) {
      out.push(['-t', table, '-F', c]);
      drops.push(['-t', table, '-X', c]);
    }
  }
  return [...out, ...drops];
}

/** Splits an `iptables-save` rule into arguments, keeping double-quoted strings together. */
function splitRule(rule: string): string[] {
  return [...rule.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/\\"/g, '"') : (m[2] ?? '')));
}

// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { realNodeFlag } from '../cli/cluster-commands.ts';
import { apiserverSpec } from './components.ts';
import type { ClusterLayout } from './components.ts';
import type { Binaries } from './binaries.ts';
import type { Pki } from './pki.ts';
import {
  apiServiceRules, REAL_NODE_LABEL, REAL_NODE_NAME, REAL_NODE_TAINT, cniConfig, containerdConfig, freeSubnet, iptablesUndo, kubeletArgs, kubeletConfig, realNodePaths,
} from './real-node-config.ts';
import { mountsUnder } from './real-node-cleanup.ts';
import { kubeletCause } from './real-node.ts';

const p = realNodePaths('/state/clusters/demo', 'demo');

describe('real node paths', () => {
  it('keeps every file under the cluster dir and host-wide names short and per cluster', () => {
    for (const f of [p.containerdRoot, p.containerdState, p.containerdSocket, p.cniConfDir, p.cniIpamDir, p.kubeletRoot, p.podLogsDir]) {
      expect(f.startsWith('/state/clusters/demo/node/')).toBe(true);
    }
    expect(p.bridge.length).toBeLessThanOrEqual(15);
    expect(p.subnet).toMatch(/^10\.245\.\d+\.0\/24$/);
    expect(p.gateway).toBe(p.subnet.replace('.0/24', '.1'));
    const other = realNodePaths('/x', 'other');
    expect(other.bridge).not.toBe(p.bridge);
    expect(other.cgroupRoot).not.toBe(p.cgroupRoot);
    expect(realNodePaths('/y', 'demo').bridge).toBe(p.bridge);
  });
  it('moves to the next free subnet when another bridge has the preferred one', () => {
    const routes = 'default via 192.0.2.1 dev eth0\n10.245.7.0/24 dev pnl-aaaaaa proto kernel scope link src 10.245.7.1\n10.245.8.0/24 dev pnl-bbbbbb\n';
    expect(freeSubnet('10.245.7.0/24', routes)).toEqual({ subnet: '10.245.9.0/24', gateway: '10.245.9.1' });
    expect(freeSubnet('10.245.6.0/24', routes)).toEqual({ subnet: '10.245.6.0/24', gateway: '10.245.6.1' });
  });
});

describe('containerd configuration', () => {
  const toml = containerdConfig(p, 'localhost/panalysis/pause:3.10', '/usr/sbin/runc');
  it('uses its own root, state and socket, restricts oom_score_adj and names the pause image and CNI dirs', () => {
    expect(toml).toMatch(/^version = 3$/m);
    expect(toml).toContain(`root = '${p.containerdRoot}'`);
    expect(toml).toContain(`state = '${p.containerdState}'`);
    expect(toml).toContain(`address = '${p.containerdSocket}'`);
    expect(toml).toContain('restrict_oom_score_adj = true');
    expect(toml).toContain('netns_mounts_under_state_dir = true');
    expect(toml).toContain("sandbox = 'localhost/panalysis/pause:3.10'");
    expect(toml).toContain("bin_dirs = ['/usr/lib/cni']");
    expect(toml).toContain(`conf_dir = '${p.cniConfDir}'`);
    expect(toml).toContain("BinaryName = '/usr/sbin/runc'");
    expect(toml).toContain('SystemdCgroup = false');
    expect(toml).toContain('imports = []');
  });
});

describe('CNI network', () => {
  it('is a bridge on the node subnet with host-local state under the cluster dir, no masquerade, and portmap', () => {
    const c = JSON.parse(cniConfig(p)) as { name: string; plugins: Record<string, any>[] };
    expect(c.name).toBe(p.network);
    const bridge = c.plugins[0]!;
    expect(bridge).toMatchObject({ type: 'bridge', bridge: p.bridge, isGateway: true, ipMasq: false });
    expect(bridge.ipam).toMatchObject({ type: 'host-local', dataDir: p.cniIpamDir, ranges: [[{ subnet: p.subnet, gateway: p.gateway }]] });
    expect(c.plugins[1]!.type).toBe('portmap');
  });
});

describe('kubelet', () => {
  const config = parse(kubeletConfig(p, { caCert: '/pki/ca.crt', tlsCert: '/pki/s.crt', tlsKey: '/pki/s.key', port: 11250, healthzPort: 11248, address: '192.0.2.2' })) as Record<string, any>;
  it('runs on cgroup v1 with cgroupfs under its own cgroup, without swap checks', () => {
    expect(config).toMatchObject({ failCgroupV1: false, cgroupDriver: 'cgroupfs', cgroupRoot: p.cgroupRoot, failSwapOn: false });
    expect(kubeletConfig(p, { caCert: '', tlsCert: '', tlsKey: '', port: 1, healthzPort: 2, address: '' })).toMatch(/# .*cgroup v1[^\n]*\n\s*failCgroupV1: false/);
  });
  it('authenticates clients by the cluster CA or a webhook, never anonymously, and authorizes by webhook', () => {
    expect(config.authentication).toEqual({ anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: '/pki/ca.crt' } });
    expect(config.authorization).toEqual({ mode: 'Webhook' });
    expect(config.readOnlyPort).toBe(0);
    expect(config).toMatchObject({ tlsCertFile: '/pki/s.crt', tlsPrivateKeyFile: '/pki/s.key', port: 11250, address: '192.0.2.2' });
  });
  it('registers tainted, keeps its files under the cluster dir, adds no iptables chains and never evicts for a full disk', () => {
    expect(config.registerWithTaints).toEqual([{ key: REAL_NODE_TAINT, value: 'true', effect: 'NoSchedule' }]);
    expect(config.containerRuntimeEndpoint).toBe(`unix://${p.containerdSocket}`);
    expect(config.podLogsDir).toBe(p.podLogsDir);
    expect(config.makeIPTablesUtilChains).toBe(false);
    expect(config.imageGCHighThresholdPercent).toBe(100);
    expect(config.evictionHard['nodefs.available']).toBe('1%');
    const args = kubeletArgs(p, '192.0.2.2');
    expect(args).toContain(`--root-dir=${p.kubeletRoot}`);
    expect(args).toContain('--node-ip=192.0.2.2');
    expect(args).toContain(`--hostname-override=${REAL_NODE_NAME}`);
    expect(args).toContain(`--node-labels=${REAL_NODE_LABEL}=true`);
  });
  it('names the cause of a failed start from its log', () => {
    const log = 'I1130 start\nE1130 19:00:00.1 1 run.go:72] "command failed" err="failed to run Kubelet: invalid configuration: cgroup-root \\"/x\\" doesn\'t exist"\n';
    expect(kubeletCause(log)).toBe('failed to run Kubelet: invalid configuration: cgroup-root "/x" doesn\'t exist');
    expect(kubeletCause('I1130 fine\n')).toBeUndefined();
  });
});

describe('apiserver towards kubelets', () => {
  const bin = { kubeApiserver: '/bin/kube-apiserver' } as Binaries;
  const layout = { dir: '/c', etcdPort: 1, apiserverPort: 2, tokenFile: '/c/t' } as ClusterLayout;
  const pki = { caCert: '/c/ca.crt', kubeletClientCert: '/c/k.crt', kubeletClientKey: '/c/k.key' } as Pki;
  it('uses a client certificate, checks the kubelet against the CA and dials InternalIP only with a real node', () => {
    const args = apiserverSpec(bin, layout, pki, true).args;
    expect(args).toEqual(expect.arrayContaining(['--kubelet-client-certificate=/c/k.crt', '--kubelet-client-key=/c/k.key', '--kubelet-certificate-authority=/c/ca.crt', '--kubelet-preferred-address-types=InternalIP']));
    expect(apiserverSpec(bin, layout, pki).args.some((a) => a.startsWith('--kubelet-'))).toBe(false);
  });
});

describe('cleanup helpers', () => {
  it('lists mounts under the node dir deepest first, unescaping spaces', () => {
    const info = [
      '22 1 8:1 / / rw - ext4 /dev/vda rw',
      '30 22 0:40 / /s/node/containerd/state/run/a/rootfs rw - overlay overlay rw',
      '31 22 0:41 / /s/node/containerd/state/run/a/rootfs/dev\\040x rw - tmpfs tmpfs rw',
      '32 22 0:42 / /s/node-other rw - tmpfs tmpfs rw',
      '',
    ].join('\n');
    expect(mountsUnder(info, '/s/node')).toEqual(['/s/node/containerd/state/run/a/rootfs/dev x', '/s/node/containerd/state/run/a/rootfs']);
  });

  it('undoes the KUBE-/CNI- chains and jumps that appeared, leaving older ones alone', () => {
    const before = '*filter\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:KUBE-OLD - [0:0]\n-A INPUT -j KUBE-OLD\nCOMMIT\n';
    const after = [
      '*filter', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':KUBE-OLD - [0:0]', ':KUBE-FIREWALL - [0:0]',
      '-A INPUT -j KUBE-OLD', '-A INPUT -j KUBE-FIREWALL', '-A OUTPUT -m comment --comment "kubelet firewall" -j KUBE-FIREWALL',
      '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -j DROP', 'COMMIT',
      '*mangle', ':KUBE-IPTABLES-HINT - [0:0]', 'COMMIT', '',
    ].join('\n');
    expect(iptablesUndo(before, after)).toEqual([
      ['-t', 'filter', '-D', 'INPUT', '-j', 'KUBE-FIREWALL'],
      ['-t', 'filter', '-D', 'OUTPUT', '-m', 'comment', '--comment', 'kubelet firewall', '-j', 'KUBE-FIREWALL'],
      ['-t', 'filter', '-F', 'KUBE-FIREWALL'],
      ['-t', 'mangle', '-F', 'KUBE-IPTABLES-HINT'],
      ['-t', 'filter', '-X', 'KUBE-FIREWALL'],
      ['-t', 'mangle', '-X', 'KUBE-IPTABLES-HINT'],
    ]);
    expect(iptablesUndo(after, after)).toEqual([]);
  });

  it('sends pods\' connections to the kubernetes Service address to the apiserver on loopback, from the pod bridge only, and undoes that', () => {
    const p = realNodePaths('/x', 'demo');
    const rules = apiServiceRules(p, '10.96.0.1', 6443);
    expect(rules).toEqual([
      ['-t', 'nat', '-N', p.apiChain],
      ['-t', 'nat', '-A', p.apiChain, '-d', '10.96.0.1/32', '-p', 'tcp', '--dport', '443', '-j', 'DNAT', '--to-destination', '127.0.0.1:6443'],
      ['-t', 'nat', '-A', 'PREROUTING', '-i', p.bridge, '-j', p.apiChain],
    ]);
    expect(p.apiChain.length).toBeLessThanOrEqual(28);
    const before = '*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n';
    const after = ['*nat', ':PREROUTING ACCEPT [0:0]', `:${p.apiChain} - [0:0]`, `-A PREROUTING -i ${p.bridge} -j ${p.apiChain}`,
      `-A ${p.apiChain} -d 10.96.0.1/32 -p tcp -m tcp --dport 443 -j DNAT --to-destination 127.0.0.1:6443`, 'COMMIT', ''].join('\n');
    expect(iptablesUndo(before, after)).toEqual([
      ['-t', 'nat', '-D', 'PREROUTING', '-i', p.bridge, '-j', p.apiChain],
      ['-t', 'nat', '-F', p.apiChain],
      ['-t', 'nat', '-X', p.apiChain],
    ]);
  });
});

describe('cluster up flag', () => {
  it('starts the real node only when asked, the last flag winning', () => {
    expect(realNodeFlag(['cluster', 'up'])).toBe(false);
    expect(realNodeFlag(['cluster', 'up', '--real-node'])).toBe(true);
    expect(realNodeFlag(['cluster', 'up', '--real-node', '--no-real-node'])).toBe(false);
  });
});

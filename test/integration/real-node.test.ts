// SPDX-License-Identifier: Apache-2.0
/**
 * The local cluster's real node, on a cluster of its own: it registers Ready with its label and
 * taint; a pod with the restricted security context runs on it from a locally built image, the
 * host reaches its pod IP, `kubectl logs` goes through the apiserver to the kubelet with
 * certificates; and stopping the cluster leaves no mount, network namespace, bridge, cgroup,
 * iptables chain or changed sysctl behind. Skipped, with the reason, where the node cannot run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureImages, LOCAL_IMAGES } from '../../src/cluster/images.ts';
import { startLocalCluster } from '../../src/cluster/local-cluster.ts';
import type { LocalCluster } from '../../src/cluster/local-cluster.ts';
import { KUBELET_SYSCTLS, REAL_NODE_LABEL, REAL_NODE_NAME, REAL_NODE_TAINT, REAL_NODE_TOLERATION, realNodePaths } from '../../src/cluster/real-node-config.ts';
import { realNodeSupport } from '../../src/cluster/real-node.ts';

const NAME = 'itest-real-node';
const support = realNodeSupport();
const skipReason = support.ok ? undefined : `the real node cannot run here: ${support.why}`;

let cluster: LocalCluster | undefined;
let stopped = false;
const sysctlsBefore: Record<string, string> = {};
let iptablesBefore = '';


const sysctl = (k: string): string => readFileSync(join('/proc/sys', ...k.split('.')), 'utf8').trim();
const iptablesChains = (save: string): string[] => save.split('\n').filter((l) => /^:(KUBE-|CNI-)/.test(l)).map((l) => l.split(' ')[0]!).sort();
const iptablesSave = (): string => execFileSync('iptables-save', { encoding: 'utf8' });

function kubectl(...args: string[]): string {
  return execFileSync(cluster!.binaries.kubectl, ['--kubeconfig', cluster!.kubeconfig, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A pod as a session would be: restricted Pod Security, no token, read-only root, on the real node only. */
function restrictedPod(name: string, image: string): object {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
    spec: {
      nodeSelector: { [REAL_NODE_LABEL]: 'true' }, tolerations: [REAL_NODE_TOLERATION], automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{
        name: 'web', image, imagePullPolicy: 'Never',
        command: ['python3', '-u', '-m', 'http.server', '8080', '--bind', '0.0.0.0', '--directory', '/opt'],
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
      }],
    },
  };
}

describe('the real node of the local cluster', () => {
  beforeEach((ctx) => {
    if (skipReason) ctx.skip(skipReason);
  });

  beforeAll(async () => {
    if (skipReason) return;
    for (const k of KUBELET_SYSCTLS) sysctlsBefore[k] = sysctl(k);
    iptablesBefore = iptablesSave();
    cluster = await startLocalCluster({
      name: NAME, realNode: true, installCrds: false, nodes: { cpuNodes: 1, gpuNodes: 0, migNodes: 0 },
      images: () => ensureImages(['pause', 'jupyterlab']), log: () => {},
    });
  }, 1_800_000);

  afterAll(async () => {
    if (cluster && !stopped) await cluster.stop(true);
  }, 120_000);

  it('is Ready, labelled and tainted so that only pods that tolerate it land there', () => {
    const node = JSON.parse(kubectl('get', 'node', REAL_NODE_NAME, '-o', 'json')) as { metadata: { labels: Record<string, string> }; spec: { taints?: object[] }; status: { conditions: { type: string; status: string }[]; nodeInfo: { containerRuntimeVersion: string } } };
    expect(node.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(node.metadata.labels[REAL_NODE_LABEL]).toBe('true');
    expect(node.spec.taints).toContainEqual({ key: REAL_NODE_TAINT, value: 'true', effect: 'NoSchedule' });
    expect(node.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\/2\./);
  });

  it('runs a restricted pod from a local image that the host reaches on its pod IP, with its logs through the apiserver', async () => {
    execFileSync(cluster!.binaries.kubectl, ['--kubeconfig', cluster!.kubeconfig, 'apply', '-f', '-'], { input: JSON.stringify(restrictedPod('web', LOCAL_IMAGES.jupyterlab)) });
    await expect.poll(() => kubectl('get', 'pod', 'web', '-o', 'jsonpath={.status.phase}'), { timeout: 120_000, interval: 500 }).toBe('Running');
    expect(kubectl('get', 'pod', 'web', '-o', 'jsonpath={.spec.nodeName}')).toBe(REAL_NODE_NAME);
    const ip = kubectl('get', 'pod', 'web', '-o', 'jsonpath={.status.podIP}');
    expect(ip).toMatch(/^10\.245\./);
    const body = async (): Promise<string> => {
      try {
        return await (await fetch(`http://${ip}:8080/`, { signal: AbortSignal.timeout(2000) })).text();
      } catch {
        return '';
      }
    };
    await expect.poll(body, { timeout: 60_000, interval: 500 }).toContain('venv');
    await expect.poll(() => kubectl('logs', 'web'), { timeout: 10_000 }).toMatch(/Serving HTTP on 0\.0\.0\.0 port 8080[\s\S]*"GET \/ HTTP/);
    expect(kubectl('exec', 'web', '--', 'id', '-u')).toBe('1000\n');
  }, 300_000);

  it('leaves no mount, network namespace, bridge, cgroup, iptables chain or changed sysctl after stop', async () => {
    const p = realNodePaths(cluster!.dir, NAME);
    expect(readFileSync('/proc/mounts', 'utf8')).toContain(p.dir);
    await cluster!.stop(true);
    stopped = true;
    // Pod network namespaces are bind-mounted under containerd's state dir (not /run/netns), so
    // this also says that none is left.
    expect(readFileSync('/proc/mounts', 'utf8')).not.toContain(cluster!.dir);
    expect(existsSync(cluster!.dir)).toBe(false);
    expect(execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' })).not.toContain(p.bridge);
    for (const ctrl of ['memory', 'cpu', 'pids', 'unified', '']) expect(existsSync(join('/sys/fs/cgroup', ctrl, p.cgroupRoot))).toBe(false);
    expect(iptablesChains(iptablesSave())).toEqual(iptablesChains(iptablesBefore));
    for (const k of KUBELET_SYSCTLS) expect(`${k}=${sysctl(k)}`).toBe(`${k}=${sysctlsBefore[k]}`);
    expect(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })).not.toContain(p.containerdSocket);
  }, 120_000);
});

// SPDX-License-Identifier: Apache-2.0
/**
 * What `cluster down` (and a cluster's stop) removes of the real node: its containers and shims,
 * mounts and network namespaces under the cluster's state, cgroups, the bridge, the CNI cache,
 * the iptables chains it added, and the sysctls the kubelet changed. Never throws: it returns
 * what it could not remove, and the caller keeps the state then.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, readlinkSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { iptablesUndo, realNodePaths } from './real-node-config.ts';
import { cgroupHierarchies, readSysctl, run, tryRun } from './real-node-host.ts';
import type { HostState } from './real-node-host.ts';
/** Unescapes a /proc/self/mountinfo path (\040 for a space, ...). */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Mount points at or under `dir`, deepest first. */
export function mountsUnder(mountinfo: string, dir: string): string[] {
  const points = mountinfo.split('\n').map((l) => l.split(' ')[4]).filter((m): m is string => Boolean(m)).map(unescapeMount);
  return [...new Set(points.filter((m) => m === dir || m.startsWith(dir + '/')))].sort((a, b) => b.length - a.length);
}

function killPids(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch { /* gone */ }
  }
}

/** Pids of containerd shims serving our socket. */
function shimPids(socket: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = readFileSync(join('/proc', e, 'cmdline'), 'utf8').split('\0');
      if (cmd[0]?.endsWith('containerd-shim-runc-v2') && cmd.includes(socket)) pids.push(Number(e));
    } catch { /* gone */ }
  }
  return pids;
}

/** Every cgroup directory at or under `root`, deepest first. */
function cgroupTree(root: string): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    out.push(d);
  };
  walk(root);
  return out;
}

function cgroupPids(dirs: string[]): number[] {
  return dirs.flatMap((d) => {
    try {
      return readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  });
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Removes what the real node of cluster `name` left on the host: shims and container processes
 * (killed), mounts under its directory (overlay, shm, network namespaces, volumes), its cgroups,
 * the CNI bridge and libcni's cache files, the KUBE-/CNI- iptables chains that appeared since it
 * started, the sysctls the kubelet changed, and /var/log/containers links into it. Run after the
 * kubelet and containerd stopped (or were killed). Safe to run twice, after a crash, and for a
 * cluster that never had a real node. Never throws; problems are returned as lines.
 */
export function cleanupRealNode(clusterDir: string, name: string): string[] {
  const p = realNodePaths(clusterDir, name);
  const problems: string[] = [];
  const attempt = (what: string, f: () => void): void => {
    try {
      f();
    } catch (err) {
      problems.push(`${what}: ${(err as Error).message.split('\n')[0]}`);
    }
  };
  if (process.platform !== 'linux') return problems;
  const hierarchies = existsSync('/sys/fs/cgroup') ? cgroupHierarchies() : [];
  const cgroups = hierarchies.flatMap((h) => cgroupTree(join(h, p.cgroupRoot)));
  attempt('killing containers', () => {
    for (let i = 0; i < 50; i++) {
      const pids = [...shimPids(p.containerdSocket), ...cgroupPids(cgroups)];
      if (!pids.length) break;
      killPids(pids);
      sleepSync(100);
    }
  });
  attempt('unmounting', () => {
    for (const m of mountsUnder(readFileSync('/proc/self/mountinfo', 'utf8'), p.dir)) {
      if (tryRun('umount', [m]) === undefined) tryRun('umount', ['-l', m]);
    }
    const left = mountsUnder(readFileSync('/proc/self/mountinfo', 'utf8'), p.dir);
    if (left.length) throw new Error(`still mounted: ${left.join(', ')}`);
  });
  attempt('removing cgroups', () => {
    for (const d of cgroups) {
      for (let i = 0; i < 20 && existsSync(d); i++) {
        try {
          rmdirSync(d);
        } catch {
          sleepSync(100);
        }
      }
      if (existsSync(d)) throw new Error(`${d} is still in use`);
    }
  });
  attempt('removing the bridge', () => {
    if (existsSync(join('/sys/class/net', p.bridge))) run('ip', ['link', 'del', p.bridge]);
  });
  attempt("removing the shims' sockets", () => {
    // A shim listens on /run/containerd/s/<sha256 of "<containerd socket>/<namespace>/<id>">
    // whatever containerd's state dir; a killed shim leaves it behind.
    const tasks = join(p.containerdState, 'io.containerd.runtime.v2.task', 'k8s.io');
    if (!existsSync(tasks)) return;
    for (const id of readdirSync(tasks)) {
      const hash = createHash('sha256').update(join(p.containerdSocket, 'k8s.io', id)).digest('hex');
      rmSync(join('/run/containerd/s', hash), { force: true });
    }
  });
  attempt('removing CNI cache files', () => {
    const results = '/var/lib/cni/results';
    if (!existsSync(results)) return;
    // `<network>-<sandbox id>-eth0`, and libcni's `cni-loopback-<sandbox id>-lo` for the same sandboxes.
    const files = readdirSync(results);
    const ids = files.filter((f) => f.startsWith(`${p.network}-`)).map((f) => f.slice(p.network.length + 1).split('-')[0]);
    for (const f of files) if (f.startsWith(`${p.network}-`) || ids.some((id) => id && f === `cni-loopback-${id}-lo`)) rmSync(join(results, f), { force: true });
  });
  attempt('removing container log links', () => {
    const links = '/var/log/containers';
    if (!existsSync(links)) return;
    for (const f of readdirSync(links)) {
      try {
        if (readlinkSync(join(links, f)).startsWith(p.podLogsDir + '/')) rmSync(join(links, f), { force: true });
      } catch { /* not a link */ }
    }
  });
  if (existsSync(p.hostStateFile)) {
    const state = JSON.parse(readFileSync(p.hostStateFile, 'utf8')) as HostState;
    attempt('restoring sysctls', () => {
      for (const [k, v] of Object.entries(state.sysctls)) {
        if (readSysctl(k) !== v) writeFileSync(join('/proc/sys', ...k.split('.')), v);
      }
    });
    attempt('removing iptables rules', () => {
      const now = tryRun('iptables-save', []);
      if (now === undefined) return;
      for (const args of iptablesUndo(state.iptables, now)) tryRun('iptables', ['-w', '5', ...args]);
    });
    if (!problems.length) rmSync(p.hostStateFile, { force: true });
  }
  return problems;
}

// SPDX-License-Identifier: Apache-2.0
/**
 * What the real node reads and records on the host: commands with the system paths, the cgroup
 * hierarchies, and the state the kubelet may change (sysctls, iptables), saved before it starts
 * so that cleanup can put it back.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KUBELET_SYSCTLS } from './real-node-config.ts';
import type { RealNodePaths } from './real-node-config.ts';

/** Where system tools live, added to PATH for the commands the node runs. */
export const SBIN_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function run(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], input, env: { ...process.env, PATH: `${process.env.PATH ?? ''}:${SBIN_PATH}` } });
}

export function tryRun(cmd: string, args: string[]): string | undefined {
  try {
    return run(cmd, args);
  } catch {
    return undefined;
  }
}

/** cgroup hierarchies to create the node's cgroup in (v2: the unified root; v1: every controller). */
export function cgroupHierarchies(): string[] {
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) return ['/sys/fs/cgroup'];
  const seen = new Set<string>();
  for (const e of readdirSync('/sys/fs/cgroup')) {
    const dir = join('/sys/fs/cgroup', e);
    if (!existsSync(join(dir, 'cgroup.procs'))) continue;
    seen.add(realpathSync(dir));
  }
  return [...seen];
}

/** Host state the kubelet may change, recorded before it starts. */
export interface HostState {
  sysctls: Record<string, string>;
  iptables: string;
}

export function readSysctl(key: string): string | undefined {
  try {
    return readFileSync(join('/proc/sys', ...key.split('.')), 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function recordHostState(p: RealNodePaths): void {
  if (existsSync(p.hostStateFile)) return;
  const sysctls: Record<string, string> = {};
  for (const k of KUBELET_SYSCTLS) {
    const v = readSysctl(k);
    if (v !== undefined) sysctls[k] = v;
  }
  const state: HostState = { sysctls, iptables: tryRun('iptables-save', []) ?? '' };
  writeFileSync(p.hostStateFile, JSON.stringify(state));
}

// SPDX-License-Identifier: Apache-2.0
/** `panalysis up` against an existing cluster (KUBECONFIG): demo sessions run, Ctrl-C stops cleanly. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterDir } from '../../src/cluster/local-cluster.ts';
import { signalPid } from '../../src/cluster/supervisor.ts';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { REPO_ROOT } from '../../src/cluster/binaries.ts';
import { waitFor } from './helpers.ts';
import { getSession } from './sessions.ts';
import { deleteNamespace } from './cleanup.ts';

describe('panalysis up', () => {
  it('installs into the cluster of KUBECONFIG, runs the demo sessions and stops on SIGINT', async () => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'src', 'cli', 'main.ts'), 'up'], { env: { ...process.env, KUBECONFIG: inject('kubeconfig') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', () => undefined);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await waitFor('panalysis up to report', async () => out.includes('Press Ctrl-C to stop.'), 120_000);
      expect(out).toMatch(/demo-notebook\s+demo\s+jupyter\s+-\s+Running/);
      expect(out).toMatch(/demo-desktop\s+demo\s+desktop\s+1x a100\s+Running\s+kwok-gpu-a100-/);
      const nb = await getSession('proposal-demo', 'demo-notebook');
      expect(nb.status?.conditions?.find((c) => c.type === 'DataMounted')?.message).toBe('raw at /data/raw (read-only)');
    } finally {
      // While its operator still runs (the demo DatasetMount has a finalizer): the demo
      // sessions hold a GPU and a volume that later files must not find.
      await deleteNamespace('proposal-demo');
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });

  it('on its own local cluster: Ctrl-C stops everything, says so, and leaves no process or state', async () => {
    const name = `up-stop-${process.pid}`;
    const { child, output, exited } = startUp(name);
    await waitFor('panalysis up to report', async () => output().includes('Press Ctrl-C to stop.'), 180_000);
    const pids = pidsOf(name);
    expect(pids.length).toBeGreaterThanOrEqual(5); // etcd, apiserver, controller manager, scheduler, kwok
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output()).toMatch(/Stopping panalysis \(press Ctrl-C again to force\)/);
    expect(output()).toMatch(/panalysis stopped in [0-9.]+ s/);
    expect(pids.filter((pid) => signalPid(pid, 0))).toEqual([]);
    expect(existsSync(clusterDir(name))).toBe(false);
  });

  it('a second Ctrl-C during start-up forces the stop and leaves no process or state', async () => {
    const name = `up-force-${process.pid}`;
    const { child, output, exited } = startUp(name);
    await waitFor('the local apiserver to be started', async () => pidsOf(name).length >= 2, 120_000);
    const pids = pidsOf(name);
    child.kill('SIGINT');
    await waitFor('the stop to be announced', async () => output().includes('Stopping panalysis'), 10_000);
    child.kill('SIGINT');
    const code = await exited;
    expect([0, 130]).toContain(code); // 130 when the forced stop won the race with the graceful one
    expect(pids.filter((pid) => signalPid(pid, 0))).toEqual([]);
    expect(existsSync(clusterDir(name))).toBe(false);
  });
});

/** `panalysis up` on a local cluster of its own (no KUBECONFIG). */
function startUp(name: string): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const env = { ...process.env };
  delete env.KUBECONFIG;
  const child = spawn(process.execPath, [join(REPO_ROOT, 'src', 'cli', 'main.ts'), 'up', '--name', name], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

/** The pids a local cluster's supervisor recorded. */
function pidsOf(name: string): number[] {
  const dir = join(clusterDir(name), 'pids');
  return existsSync(dir) ? readdirSync(dir).map((f) => Number(readFileSync(join(dir, f), 'utf8'))).filter((p) => p > 0) : [];
}

// SPDX-License-Identifier: Apache-2.0
/**
 * `panalysis cluster up | env | down` as a user runs them: a second, separate local
 * cluster comes up in the background, kubectl works against it, and `down` leaves
 * no process behind. A warm cache builds nothing.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { findBinaries, REPO_ROOT } from '../../src/cluster/binaries.ts';

const run = promisify(execFile);
const state = mkdtempSync(join(tmpdir(), 'panalysis-cli-'));
const env = { ...process.env, PANALYSIS_STATE: state };
const cli = join(REPO_ROOT, 'bin', 'panalysis');
const name = 'cli';

/** Pids of processes whose command line mentions `needle`. */
function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterAll(async () => {
  await run(cli, ['cluster', 'down', '--name', name], { env }).catch(() => undefined);
  rmSync(state, { recursive: true, force: true });
});

describe('panalysis cluster', () => {
  it('comes up in the background, serves kubectl, and goes down without leftovers', async () => {
    const up = await run(cli, ['cluster', 'up', '--name', name], { env, timeout: 300_000 });
    const kubeconfig = /export KUBECONFIG=(\S+)/.exec(up.stdout)?.[1];
    expect(kubeconfig).toBeDefined();
    const nodes = await run(findBinaries().kubectl, ['get', 'nodes', '-o', 'name'], { env: { ...env, KUBECONFIG: kubeconfig } });
    expect(nodes.stdout).toContain('node/kwok-gpu-a100-0');
    const crds = await run(findBinaries().kubectl, ['get', 'crd', '-o', 'name'], { env: { ...env, KUBECONFIG: kubeconfig } });
    expect(crds.stdout).toContain('analysissessions.panalysis.io');

    const envOut = await run(cli, ['cluster', 'env', '--name', name], { env });
    expect(envOut.stdout).toContain(`export KUBECONFIG=${kubeconfig}`);
    const again = await run(cli, ['cluster', 'up', '--name', name], { env });
    expect(again.stdout).toContain(`export KUBECONFIG=${kubeconfig}`);
    const dir = join(state, 'clusters', name);
    const supervisor = Number(readFileSync(join(dir, 'supervisor.pid'), 'utf8'));
    const children = processesMentioning(state);
    expect(children.length).toBe(5); // etcd, apiserver, controller manager, scheduler, kwok
    expect(isAlive(supervisor)).toBe(true);

    await run(cli, ['cluster', 'down', '--name', name], { env });
    expect(processesMentioning(state)).toEqual([]);
    expect([supervisor, ...children].filter(isAlive)).toEqual([]);
    const status = await run(cli, ['cluster', 'status', '--name', name], { env });
    expect(status.stdout).toContain('not running');
  });

  it('reuses the cached binaries: a warm build script builds nothing', async () => {
    const before = statSync(findBinaries().kubeApiserver).mtimeMs;
    const out = await run('bash', [join(REPO_ROOT, 'scripts', 'build-control-plane.sh')], { env });
    expect(out.stderr).not.toMatch(/built /);
    expect(statSync(findBinaries().kubeApiserver).mtimeMs).toBe(before);
  });
});

// SPDX-License-Identifier: Apache-2.0
/** `panalysis up` against an existing cluster (KUBECONFIG): demo sessions run, Ctrl-C stops cleanly. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { REPO_ROOT } from '../../src/cluster/binaries.ts';
import { waitFor } from './helpers.ts';
import { getSession } from './sessions.ts';

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
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });
});

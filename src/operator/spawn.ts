// SPDX-License-Identifier: Apache-2.0
/** Runs `panalysis operator` as a child process (the embedded default, the benchmark, the tests). */
import { spawn } from 'node:child_process';
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../cluster/binaries.ts';

/** The operator configuration of the embedded default and the tests. */
export const DEMO_CONFIG = join(REPO_ROOT, 'manifests', 'config', 'operator.yaml');

export interface SpawnOperatorOptions {
  kubeconfig: string;
  /** Probe and metrics port. */
  port: number;
  /** Configuration file; default {@link DEMO_CONFIG}. */
  config?: string;
  /** Further command-line flags, e.g. `--leader-elect`. */
  args?: string[];
  stdio?: StdioOptions;
}

/** Starts the operator against `kubeconfig`; the caller waits for `/readyz` if it needs to. */
export function spawnOperator(o: SpawnOperatorOptions): ChildProcess {
  const args = [join(REPO_ROOT, 'src', 'cli', 'main.ts'), 'operator', '--config', o.config ?? DEMO_CONFIG, '--port', String(o.port), ...(o.args ?? [])];
  return spawn(process.execPath, args, { env: { ...process.env, KUBECONFIG: o.kubeconfig }, stdio: o.stdio ?? 'ignore' });
}

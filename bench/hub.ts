// SPDX-License-Identifier: Apache-2.0
/**
 * The JupyterHub + KubeSpawner side of sessionbench, loaded from bench/kubespawner/workload.ts
 * when that module exists (it installs and runs the hub; this file only knows its interface).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BurstOptions, HubRun } from './kubespawner/workload.ts';
import type { KUBESPAWNER_VERSIONS } from './kubespawner/workload.ts';

export type { HubRun };

export interface HubModule {
  kubespawnerBurst(o: BurstOptions): Promise<HubRun>;
  KUBESPAWNER_VERSIONS: typeof KUBESPAWNER_VERSIONS;
}

const MODULE = join(import.meta.dirname, 'kubespawner', 'workload.ts');

/** The hub module, or why it cannot run (`disabled` is the reason given by the options, if any). */
export async function loadHub(disabled?: string): Promise<HubModule | { skipped: string }> {
  if (disabled) return { skipped: disabled };
  if (!existsSync(MODULE)) return { skipped: 'bench/kubespawner/workload.ts is not there yet' };
  try {
    return (await import(pathToFileURL(MODULE).href)) as HubModule;
  } catch (err) {
    return { skipped: `bench/kubespawner/workload.ts did not load: ${err instanceof Error ? err.message : String(err)}` };
  }
}

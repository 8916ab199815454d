// SPDX-License-Identifier: Apache-2.0
/**
 * The JupyterHub + KubeSpawner side of sessionbench, loaded from bench/kubespawner/workload.ts
 * when that module exists (it installs and runs the hub; this file only knows its interface).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** One hub burst: latencies in ms per server from the spawn request. */
export interface HubRun {
  size: number;
  withStorage: boolean;
  podCreated: number[];
  podReady: number[];
  /** The hub says the server is ready. */
  serverReady: number[];
  seconds: number;
  serversPerSecond: number;
  hubCpuSeconds: number;
  hubPeakRssMb: number;
  proxyCpuSeconds: number;
  failed?: { reason: string; ready: number };
}

export interface HubModule {
  kubespawnerBurst(o: { kubeconfig: string; namespace: string; size: number; withStorage: boolean; concurrency?: number; concurrentSpawnLimit?: number; onProgress?: (created: number, ready: number) => void }): Promise<HubRun>;
  KUBESPAWNER_VERSIONS: { jupyterhub: string; kubespawner: string; configurableHttpProxy: string };
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

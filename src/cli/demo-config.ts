// SPDX-License-Identifier: Apache-2.0
/**
 * The operator configuration of `panalysis up`: the tests' configuration (manifests/config/operator.yaml)
 * with a facility default quota, so the demo proposal gets a quota (`kubectl get pquota -A`)
 * while the tests keep proposals without one unless they create it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import type { Scalar, YAMLMap } from 'yaml';
import type { ResourceQuotaSpec } from '../api/v1alpha1/resource-quota.ts';
import { DEMO_CONFIG } from '../operator/spawn.ts';

/** The facility default quota of the demo: room for the demo's three sessions and a few more. */
export const DEMO_DEFAULT_QUOTA: ResourceQuotaSpec = {
  hard: { sessions: 6, sessionsPerUser: 4, gpus: 2 },
  budgets: { gpuHours: 100 },
};

/**
 * The text of the demo configuration: {@link DEMO_CONFIG} (comments kept) with `quotas.default` set,
 * `hostPathRoots` added to the roots hostPath datasets may use (the real node's demo data), and
 * `gateway` merged into the gateway section (the local provider and the secrets' files).
 */
export function demoConfigText(hostPathRoots: readonly string[] = [], gateway: Record<string, unknown> = {}): string {
  const doc = parseDocument(readFileSync(DEMO_CONFIG, 'utf8'));
  for (const [key, value] of Object.entries(gateway)) doc.setIn(['gateway', key], value);
  for (const root of hostPathRoots) doc.addIn(['datasets', 'hostPath'], root);
  const quotas = doc.createPair('quotas', { default: DEMO_DEFAULT_QUOTA });
  (quotas.key as Scalar).commentBefore = ' Facility default quota of the demo: written into every proposal namespace that has none.';
  (doc.contents as YAMLMap).items.push(quotas);
  return doc.toString();
}

/** Writes the demo configuration as `operator.yaml` in `dir`; returns its path. */
export function writeDemoConfig(dir: string, hostPathRoots: readonly string[] = [], gateway: Record<string, unknown> = {}): string {
  const file = join(dir, 'operator.yaml');
  writeFileSync(file, demoConfigText(hostPathRoots, gateway));
  return file;
}

// SPDX-License-Identifier: Apache-2.0
/**
 * Helpers for the budget and accounting tests of proposal quotas: what an admin reads
 * (usage records, Events, `kubectl get pquota`, metrics samples) and does (wipe a quota's
 * status, run the operator with a facility default quota).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnalysisSessionSpec } from '../../src/api/v1alpha1/analysis-session.ts';
import type { ResourceQuotaSpec } from '../../src/api/v1alpha1/resource-quota.ts';
import type { UsageRecord } from '../../src/api/v1alpha1/usage-record.ts';
import { core, custom, kubectl } from './helpers.ts';
import { DEMO_CONFIG } from './operator.ts';

/** A JupyterLab session of alice with one A100, as a portal creates it. */
export const GPU_SESSION: AnalysisSessionSpec = { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy', resources: { gpu: { flavour: 'a100', count: 1 } } };
/** A JupyterLab session without GPU. */
export const CPU_SESSION: AnalysisSessionSpec = { user: 'bob', type: 'jupyter', profile: 'jupyter-scipy' };

/** The usage records of a namespace, ordered by run. */
export async function usageRecords(namespace: string): Promise<UsageRecord[]> {
  const list = (await custom().listNamespacedCustomObject({ group: 'panalysis.io', version: 'v1alpha1', plural: 'usagerecords', namespace })) as { items: UsageRecord[] };
  return list.items.sort((a, b) => a.spec.run - b.spec.run);
}

/** Seconds between two API time stamps. */
export const secondsBetween = (start: string, end: string): number => (Date.parse(end) - Date.parse(start)) / 1000;

/** Reasons of the Events about one object (`kubectl get events --field-selector involvedObject.name=...`). */
export async function eventReasons(namespace: string, kind: string, name: string): Promise<string[]> {
  const list = await core().listNamespacedEvent({ namespace, fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}` });
  return list.items.map((e) => e.reason ?? '');
}

/** Removes a quota's status as an admin would, through the status subresource. */
export async function wipeQuotaStatus(namespace: string, name: string): Promise<void> {
  await kubectl('patch', 'resourcequotas.panalysis.io', name, '-n', namespace, '--subresource=status', '--type=json', '-p', '[{"op":"remove","path":"/status"}]');
}

/** One row of `kubectl get pquota` as column name → value (cut at the header's column starts; empty columns stay empty). */
export async function quotaRow(namespace: string, name: string): Promise<Record<string, string>> {
  const [head, row] = (await kubectl('get', 'pquota', name, '-n', namespace)).split('\n');
  const starts = [...head!.matchAll(/\S+/g)].map((m) => [m[0], m.index] as const);
  return Object.fromEntries(starts.map(([column, start], i) => [column, row!.slice(start, starts[i + 1]?.[1]).trim()]));
}

/**
 * The value of the sample of metric `name` whose labels include `labels` (any order),
 * undefined when there is none.
 */
export function sample(metrics: Record<string, number>, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const key = Object.keys(metrics).find((k) => {
    const m = /^([a-z_]+)(?:\{([^}]*)\})?$/.exec(k);
    if (!m || m[1] !== name) return false;
    const have = new Set((m[2] ?? '').split(','));
    return wanted.every((w) => have.has(w));
  });
  return key === undefined ? undefined : metrics[key];
}

/** A copy of the test configuration with a `quotas:` section; returns its path. */
export function configWithQuotas(quotas: { default?: ResourceQuotaSpec; defaultName?: string }): string {
  const dir = mkdtempSync(join(tmpdir(), 'panalysis-quota-config-'));
  const path = join(dir, 'operator.yaml');
  writeFileSync(path, `${readFileSync(DEMO_CONFIG, 'utf8').trimEnd()}\nquotas: ${JSON.stringify(quotas)}\n`);
  return path;
}

// SPDX-License-Identifier: Apache-2.0
/**
 * The quota metrics a facility's Prometheus scrapes from the operator: limits and usage
 * per quota and resource, budget consumption, sessions waiting by reason, and how long
 * sessions waited for admission.
 */
import type { Reservation, ResourceQuota, ResourceQuotaStatus } from '../../api/v1alpha1/resource-quota.ts';
import type { BudgetView } from '../../policy/quota-admission.ts';
import type { LimitsInForce } from '../../policy/quota-limits.ts';
import type { MetricsRegistry, Sample } from '../../runtime/metrics.ts';

export interface QuotaMetrics {
  observe(q: ResourceQuota, proposal: string, inForce: LimitsInForce, status: ResourceQuotaStatus, budgets: BudgetView): void;
  admitted(q: ResourceQuota, waitedSeconds: number): void;
  released(q: ResourceQuota, r: Reservation): void;
  forget(namespace: string, name: string): void;
}

interface Snapshot { limits: Sample[]; used: Sample[]; budget: Sample[]; budgetLimit: Sample[]; pending: Sample[] }

const QUOTA_LABELS = ['namespace', 'quota'];
const RESOURCE_LABELS = ['namespace', 'quota', 'proposal', 'resource'];

/** Registers the quota families on `registry`; values are read at scrape time from the last pass of each quota. */
export function quotaMetrics(registry: MetricsRegistry): QuotaMetrics {
  const snapshots = new Map<string, Snapshot>();
  const all = (pick: (s: Snapshot) => Sample[]) => () => [...snapshots.values()].flatMap(pick);
  registry.collect('panalysis_quota_limit', 'Limit in force per quota and resource (sessions, cpu cores, memory bytes, gpus, gpus:<flavour>).', 'gauge', RESOURCE_LABELS, all((s) => s.limits));
  registry.collect('panalysis_quota_used', 'Reserved by admitted sessions per quota and resource.', 'gauge', RESOURCE_LABELS, all((s) => s.used));
  registry.collect('panalysis_quota_budget_consumed_hours', 'Budget consumed (finished runs plus running ones) in resource-hours.', 'gauge', RESOURCE_LABELS, all((s) => s.budget));
  registry.collect('panalysis_quota_budget_hours', 'Budget granted in resource-hours.', 'gauge', RESOURCE_LABELS, all((s) => s.budgetLimit));
  registry.collect('panalysis_quota_sessions_pending', 'Sessions waiting for admission, by the limit they wait for.', 'gauge', ['namespace', 'quota', 'proposal', 'reason'], all((s) => s.pending));
  const wait = registry.histogram('panalysis_quota_admission_wait_seconds', 'Time from a session\'s creation (or first wait) to its admission.', QUOTA_LABELS, [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400]);
  const admissions = registry.counter('panalysis_quota_admissions_total', 'Sessions admitted per quota.', QUOTA_LABELS);
  const releases = registry.counter('panalysis_quota_releases_total', 'Session runs released (usage record written) per quota.', QUOTA_LABELS);
  const key = (q: ResourceQuota) => `${q.metadata.namespace}/${q.metadata.name}`;
  return {
    observe(q, proposal, inForce, status, budgets) {
      const base = { namespace: q.metadata.namespace!, quota: q.metadata.name!, proposal };
      const limits: Sample[] = [];
      const used: Sample[] = [];
      const put = (resource: string, limit: number | undefined, value: number) => {
        if (limit !== undefined) limits.push({ labels: { ...base, resource }, value: limit });
        used.push({ labels: { ...base, resource }, value });
      };
      const u = status.used ?? { sessions: 0, cpuMillis: 0, memoryBytes: 0, gpus: 0 };
      const l = inForce.limits;
      put('sessions', l.sessions, u.sessions);
      put('cpu', l.cpuMillis === undefined ? undefined : l.cpuMillis / 1000, u.cpuMillis / 1000);
      put('memory', l.memoryBytes, u.memoryBytes);
      put('gpus', l.gpus, u.gpus);
      for (const f of new Set([...Object.keys(l.gpusPerFlavour ?? {}), ...Object.keys(u.gpusPerFlavour ?? {})])) put(`gpus:${f}`, l.gpusPerFlavour?.[f], u.gpusPerFlavour?.[f] ?? 0);
      const budget: Sample[] = [];
      const budgetLimit: Sample[] = [];
      if (budgets.gpu) {
        budget.push({ labels: { ...base, resource: 'gpu' }, value: budgets.gpu.usedSeconds / 3600 });
        budgetLimit.push({ labels: { ...base, resource: 'gpu' }, value: budgets.gpu.limitSeconds / 3600 });
      }
      if (budgets.cpu) {
        budget.push({ labels: { ...base, resource: 'cpu' }, value: budgets.cpu.usedMilliSeconds / 3_600_000 });
        budgetLimit.push({ labels: { ...base, resource: 'cpu' }, value: budgets.cpu.limitMilliSeconds / 3_600_000 });
      }
      const byReason = new Map<string, number>();
      for (const w of status.waiting ?? []) byReason.set(w.reason, (byReason.get(w.reason) ?? 0) + 1);
      const pending = [...byReason].map(([reason, value]) => ({ labels: { ...base, reason }, value }));
      snapshots.set(key(q), { limits, used, budget, budgetLimit, pending });
    },
    admitted(q, waitedSeconds) {
      wait.observe({ namespace: q.metadata.namespace!, quota: q.metadata.name! }, waitedSeconds);
      admissions.inc({ namespace: q.metadata.namespace!, quota: q.metadata.name! });
    },
    released(q) {
      releases.inc({ namespace: q.metadata.namespace!, quota: q.metadata.name! });
    },
    forget(namespace, name) {
      snapshots.delete(`${namespace}/${name}`);
    },
  };
}

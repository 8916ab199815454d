// SPDX-License-Identifier: Apache-2.0
/** The quota's status from a decision (pure): used, summary for printer columns, conditions. */
import type { QuotaUsed, ResourceQuota, ResourceQuotaStatus } from '../../api/v1alpha1/resource-quota.ts';
import type { BudgetView } from '../../policy/quota-admission.ts';
import { hours } from '../../policy/quota-admission.ts';
import type { LimitsInForce } from '../../policy/quota-limits.ts';
import { canonicalJson } from '../../runtime/apply-memo.ts';
import { setCondition } from '../../runtime/conditions.ts';
import type { Condition } from '../../runtime/conditions.ts';

const ratio = (used: number, limit: number | undefined): string => `${used}/${limit === undefined ? '-' : limit}`;

/** `SESSIONS 2/4`, `GPU 1/2`, `GPU-H 31/200` as printer columns show them. */
export function summaryOf(used: QuotaUsed, inForce: LimitsInForce, budgets: BudgetView, waiting: number): NonNullable<ResourceQuotaStatus['summary']> {
  const summary: NonNullable<ResourceQuotaStatus['summary']> = {
    sessions: ratio(used.sessions, inForce.limits.sessions),
    gpus: ratio(used.gpus, inForce.limits.gpus),
    waiting,
  };
  if (budgets.gpu) summary.gpuHours = `${hours(budgets.gpu.usedSeconds)}/${hours(budgets.gpu.limitSeconds)}`;
  if (budgets.cpu) summary.cpuHours = `${hours(budgets.cpu.usedMilliSeconds / 1000)}/${hours(budgets.cpu.limitMilliSeconds / 1000)}`;
  return summary;
}

/** Conditions of the quota: Ready (enforcing, or why not) and BudgetExhausted. */
export function quotaConditions(q: ResourceQuota, ready: { status: 'True' | 'False'; reason: string; message: string }, exhausted: string | undefined, now: number): Condition[] {
  const generation = q.metadata.generation;
  let out = setCondition(q.status?.conditions as Condition[] | undefined, { type: 'Ready', ...ready, observedGeneration: generation }, now);
  out = setCondition(out, exhausted
    ? { type: 'BudgetExhausted', status: 'True', reason: 'BudgetUsedUp', message: exhausted, observedGeneration: generation }
    : { type: 'BudgetExhausted', status: 'False', reason: 'WithinBudget', message: 'No budget is used up.', observedGeneration: generation }, now);
  return out;
}

/**
 * How long the running sessions' consumption in `summary.gpuHours` and `summary.cpuHours` may lag behind: on its
 * own (nothing else in the status changed) it is written at most this often, so a quota whose sessions run, and
 * nothing else happens, costs no write on most resyncs. Enforcement never reads the summary.
 */
export const SUMMARY_REFRESH_MS = 300_000;

/**
 * Everything but what changes by itself (time stamps, and the summary's budget hours, which the running sessions'
 * consumption moves), as canonical JSON (keys sorted: the apiserver returns them in its own order), to decide
 * whether a write is needed.
 */
export function comparable(status: ResourceQuotaStatus | undefined): string {
  const { budgets, conditions, summary, ...rest } = status ?? {};
  const { asOf: _asOf, ...budgetRest } = budgets ?? { gpuSecondsConsumed: 0, cpuMilliSecondsConsumed: 0 };
  const { gpuHours: _gpu, cpuHours: _cpu, ...summaryRest } = summary ?? {};
  const conds = (conditions ?? []).map(({ lastTransitionTime: _t, ...c }) => c);
  return canonicalJson({ ...rest, ...(summary ? { summary: summaryRest } : {}), budgets: budgetRest, conditions: conds });
}

/**
 * True when `next` must be written over `stored`: something {@link comparable} sees changed, or the summary's
 * budget hours changed and the stored ones were added up {@link SUMMARY_REFRESH_MS} or longer before `now`.
 */
export function needsWrite(next: ResourceQuotaStatus, stored: ResourceQuotaStatus | undefined, now: number): boolean {
  if (comparable(next) !== comparable(stored)) return true;
  if (next.summary?.gpuHours === stored?.summary?.gpuHours && next.summary?.cpuHours === stored?.summary?.cpuHours) return false;
  const asOf = Date.parse(stored?.budgets?.asOf ?? '');
  return !Number.isFinite(asOf) || now - asOf >= SUMMARY_REFRESH_MS;
}

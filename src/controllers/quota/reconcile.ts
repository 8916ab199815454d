// SPDX-License-Identifier: Apache-2.0
/**
 * reconcileQuota: one proposal's admissions, decided one at a time (the controller's queue
 * holds one key per quota, and one worker works on a key at a time), and written with a
 * compare-and-swap on the quota's status, so a second operator replica or a stale cache
 * can delay an admission but never overshoot a limit.
 *
 * Per pass: read the quota live; rebuild the ledger if the status lost it; release the
 * runs that ended (their usage record is written first, so a crash charges exactly once);
 * apply the budget policy; admit waiting sessions in creation order; write the status with
 * the resourceVersion read (409: read again and decide again).
 */
import type { AnalysisSession } from '../../api/v1alpha1/analysis-session.ts';
import { LABELS } from '../../api/v1alpha1/group.ts';
import type { Rejection, Reservation, ResourceQuota, ResourceQuotaStatus } from '../../api/v1alpha1/resource-quota.ts';
import type { UsageRecord } from '../../api/v1alpha1/usage-record.ts';
import { parseDuration } from '../../api/quantity.ts';
import type { OperatorConfig } from '../../config/schema.ts';
import { budgetActions, budgetView, decideAdmission, usedBy } from '../../policy/quota-admission.ts';
import type { AdmissionDecision, BudgetActions } from '../../policy/quota-admission.ts';
import { DEFAULT_QUOTA_LABEL, doneRunOf, governingQuota } from '../../policy/quota-ledger.ts';
import { chargeOf, envelopeOf, limitsInForce } from '../../policy/quota-limits.ts';
import { formatTime } from '../../runtime/conditions.ts';
import type { ReconcileRequest } from '../../runtime/controller.ts';
import { done, requeueAfter } from '../../runtime/errors.ts';
import type { ReconcileResult } from '../../runtime/errors.ts';
import type { EventRecorder } from '../../runtime/events.ts';
import type { KubeClient } from '../../runtime/kube.ts';
import { isConflict } from '../../runtime/kube-http.ts';
import type { KubeObject } from '../../runtime/resource.ts';
import { demandOf, isUnchecked, isWaitingForQuota, placeholderOf } from './demand.ts';
import type { QuotaMetrics } from './metrics.ts';
import { rebuildLedger } from './rebuild.ts';
import { quotaRef, USAGE_RESOURCE } from './resources.ts';
import { comparable, needsWrite, quotaConditions, summaryOf } from './status.ts';
import { buildUsageRecord, endOf } from './usage.ts';

export interface QuotaDeps {
  kube: KubeClient;
  config: () => OperatorConfig;
  now: () => number;
  /** Quotas of a namespace, from the cache. */
  quotas: (namespace: string) => ResourceQuota[];
  /** Sessions of a namespace, from the cache. */
  sessions: (namespace: string) => AnalysisSession[];
  namespace: (name: string) => KubeObject | undefined;
  events: EventRecorder;
  metrics: QuotaMetrics;
}

/** Compare-and-swap attempts per pass before the key is retried with backoff. */
const CAS_ATTEMPTS = 5;
const DEFAULT_GRACE = '15m';

/** Reconciles the quota named by `req`. */
export async function reconcileQuota(req: ReconcileRequest, deps: QuotaDeps): Promise<ReconcileResult> {
  const namespace = req.namespace!;
  for (let attempt = 1; ; attempt++) {
    const live = await deps.kube.get<ResourceQuota & KubeObject>({ ...quotaRef({ metadata: { namespace, name: req.name } } as ResourceQuota) });
    if (!live || live.metadata.deletionTimestamp) {
      deps.metrics.forget(namespace, req.name);
      return done();
    }
    const governing = governingQuota(deps.quotas(namespace));
    if (governing && governing.metadata.uid !== live.metadata.uid) return supersede(live, governing, deps);
    try {
      return await pass(live, deps);
    } catch (err) {
      if (!isConflict(err) || attempt >= CAS_ATTEMPTS) throw err;
    }
  }
}

/** Another quota governs the namespace: a written default steps aside (deleted); any other says so in its status. */
async function supersede(q: ResourceQuota, governing: ResourceQuota, deps: QuotaDeps): Promise<ReconcileResult> {
  deps.metrics.forget(q.metadata.namespace!, q.metadata.name!);
  if (q.metadata.labels?.[DEFAULT_QUOTA_LABEL] === 'true') {
    await deps.kube.delete(quotaRef(q), { preconditions: { uid: q.metadata.uid! } });
    return done();
  }
  const message = `The quota ${governing.metadata.name} governs the sessions of this namespace (the oldest one); this one is not enforced. Delete one of them.`;
  const conditions = quotaConditions(q, { status: 'False', reason: 'Superseded', message }, undefined, deps.now());
  const status: ResourceQuotaStatus = { observedGeneration: q.metadata.generation, conditions };
  if (comparable(status) !== comparable(q.status)) await deps.kube.replaceStatus({ ...q, status } as ResourceQuota & KubeObject);
  return done();
}

function proposalOf(q: ResourceQuota, deps: QuotaDeps): string {
  return q.spec?.proposal ?? deps.namespace(q.metadata.namespace!)?.metadata?.labels?.[LABELS.proposal] ?? q.metadata.namespace!;
}

interface Ledger {
  reservations: Reservation[];
  consumed: { gpuSeconds: number; cpuMilliSeconds: number };
  nextRun: number;
  rebuilt: boolean;
}

async function ledgerOf(q: ResourceQuota, sessions: AnalysisSession[], deps: QuotaDeps): Promise<Ledger> {
  const s = q.status;
  if (typeof s?.nextRun === 'number') {
    return {
      reservations: [...(s.reservations ?? [])],
      consumed: { gpuSeconds: s.budgets?.gpuSecondsConsumed ?? 0, cpuMilliSeconds: s.budgets?.cpuMilliSecondsConsumed ?? 0 },
      nextRun: s.nextRun,
      rebuilt: false,
    };
  }
  const records = await deps.kube.list<UsageRecord & KubeObject>({ apiVersion: USAGE_RESOURCE.apiVersion, kind: USAGE_RESOURCE.kind }, { namespace: q.metadata.namespace });
  return { ...rebuildLedger(sessions, records, deps.config(), deps.now()), rebuilt: true };
}

/** Releases the runs that ended: their record first (idempotent by name), then out of the ledger with their charge. */
async function release(q: ResourceQuota, proposal: string, ledger: Ledger, sessions: AnalysisSession[], deps: QuotaDeps): Promise<Reservation[]> {
  const byUid = new Map(sessions.map((s) => [s.metadata.uid, s]));
  const released: Reservation[] = [];
  const kept: Reservation[] = [];
  for (const r of ledger.reservations) {
    const s = byUid.get(r.uid);
    if (s && doneRunOf(s) < r.run) {
      kept.push(r);
      continue;
    }
    const end = endOf(r, s, deps.now());
    const record = buildUsageRecord(q, proposal, r, s, end);
    try {
      await deps.kube.create(record as UsageRecord & KubeObject);
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
    const charge = chargeOf(r, end);
    ledger.consumed.gpuSeconds += charge.gpuSeconds;
    ledger.consumed.cpuMilliSeconds += charge.cpuMilliSeconds;
    released.push(r);
  }
  ledger.reservations = kept;
  return released;
}

/** Marks the reservations the budget policy stops (the session controller stops their pods, homes kept). */
function markStops(reservations: Reservation[], actions: BudgetActions, now: number): Reservation[] {
  const stop = new Set(actions.stop.map((r) => r.uid));
  const message = 'The proposal has used up its budget (spec.budgets, onExhausted: Stop); the session was stopped after the grace period. Its home is kept.';
  return reservations.map((r) => (stop.has(r.uid) && !r.stop ? { ...r, stop: { reason: 'BudgetExhausted', message, at: formatTime(now) } } : r));
}

/** Keeps the refusals of sessions that still exist at the refused generation, and adds the new ones. */
function rejections(old: readonly Rejection[] | undefined, added: readonly Rejection[], sessions: AnalysisSession[]): Rejection[] {
  const current = new Set(sessions.map((s) => `${s.metadata.uid}/${s.metadata.generation}`));
  const kept = (old ?? []).filter((r) => current.has(`${r.uid}/${r.generation}`) && !added.some((a) => a.uid === r.uid));
  return [...kept, ...added];
}

async function pass(q: ResourceQuota, deps: QuotaDeps): Promise<ReconcileResult> {
  const now = deps.now();
  const config = deps.config();
  const namespace = q.metadata.namespace!;
  const sessions = deps.sessions(namespace);
  const proposal = proposalOf(q, deps);
  const ledger = await ledgerOf(q, sessions, deps);
  const released = await release(q, proposal, ledger, sessions, deps);
  const inForce = limitsInForce(q.spec ?? {}, now);
  const graceMs = parseDuration(q.spec?.budgets?.gracePeriod ?? DEFAULT_GRACE);
  const before = budgetView(q.spec?.budgets, ledger.consumed, ledger.reservations, now);
  const exhaustedAt = q.status?.budgets?.exhaustedAt ? Date.parse(q.status.budgets.exhaustedAt) : undefined;
  const actions = budgetActions(q.spec?.budgets, before, { gpu: q.status?.budgets?.gpuWarned ?? 0, cpu: q.status?.budgets?.cpuWarned ?? 0 }, exhaustedAt, ledger.reservations, graceMs, q.metadata.name!, now);
  ledger.reservations = markStops(ledger.reservations, actions, now);
  const held = new Set(ledger.reservations.map((r) => r.uid));
  const pending = [
    ...sessions.filter((s) => isWaitingForQuota(s, q)).map((s) => demandOf(s, config, q)).filter((d) => d !== undefined),
    ...sessions.filter((s) => isUnchecked(s) && !held.has(s.metadata.uid!)).map(placeholderOf),
  ];
  const decision: AdmissionDecision = decideAdmission({
    quota: q.metadata.name!, onExceeded: q.spec?.onExceeded ?? 'Queue', inForce, envelope: envelopeOf(q.spec ?? {}, now),
    reservations: ledger.reservations, pending, budgets: before, nextRun: ledger.nextRun, now,
  });
  const reservations = [...ledger.reservations, ...decision.admitted];
  const used = usedBy(reservations);
  const view = budgetView(q.spec?.budgets, ledger.consumed, reservations, now);
  const unknown = unknownFlavours(q, config);
  const ready = unknown.length > 0
    ? { status: 'False' as const, reason: 'UnknownGpuFlavour', message: `${unknown.join('; ')}; flavours of this facility: ${config.gpuFlavours.map((f) => f.name).join(', ') || '(none)'}. Limits of unknown flavours never apply.` }
    : { status: 'True' as const, reason: 'Enforcing', message: `Admitting sessions of proposal ${proposal} under ${inForce.field}${inForce.window ? ` (window ${inForce.window})` : ''}.` };
  const exhausted = actions.exhaustedAt !== undefined ? actions.warn.find((w) => w.percent === 100)?.message ?? q.status?.conditions?.find((c) => c.type === 'BudgetExhausted' && c.status === 'True')?.message ?? 'A budget is used up.' : undefined;
  const status: ResourceQuotaStatus = {
    observedGeneration: q.metadata.generation,
    ...(inForce.window ? { window: inForce.window } : {}),
    ...(inForce.nextChange !== undefined ? { nextChange: formatTime(inForce.nextChange) } : {}),
    hard: inForce.hard,
    used,
    nextRun: decision.nextRun,
    reservations,
    waiting: decision.waiting,
    rejected: rejections(q.status?.rejected, decision.rejected, sessions),
    budgets: {
      gpuSecondsConsumed: ledger.consumed.gpuSeconds, cpuMilliSecondsConsumed: ledger.consumed.cpuMilliSeconds,
      ...(actions.gpuWarned ? { gpuWarned: actions.gpuWarned } : {}), ...(actions.cpuWarned ? { cpuWarned: actions.cpuWarned } : {}),
      ...(actions.exhaustedAt !== undefined ? { exhaustedAt: formatTime(actions.exhaustedAt) } : {}),
      asOf: formatTime(now),
    },
    summary: summaryOf(used, inForce, view, decision.waiting.length),
    conditions: quotaConditions(q, ready, exhausted, now),
  };
  const waits = [inForce.nextChange !== undefined ? inForce.nextChange - now : undefined, actions.nextCheckMs].filter((ms): ms is number => ms !== undefined);
  // A boundary is looked at on the instant (a timer that fires a little early looks again a moment later).
  const result = waits.length > 0 ? requeueAfter(Math.max(100, Math.min(...waits))) : done();
  deps.metrics.observe(q, proposal, inForce, status, view);
  if (!needsWrite(status, q.status, now) && !ledger.rebuilt) return result;
  await deps.kube.replaceStatus({ ...q, status } as ResourceQuota & KubeObject);
  report(q, sessions, decision, released, actions, deps, now);
  return result;
}

/** Flavours named in the quota's limits that the operator configuration does not know. */
function unknownFlavours(q: ResourceQuota, config: OperatorConfig): string[] {
  const known = new Set(config.gpuFlavours.map((f) => f.name));
  const lists: Array<[string, Record<string, number> | undefined]> = [['spec.hard.gpusPerFlavour', q.spec?.hard?.gpusPerFlavour], ...(q.spec?.windows ?? []).map((w) => [`spec.windows[${w.name}].hard.gpusPerFlavour`, w.hard?.gpusPerFlavour] as [string, Record<string, number> | undefined])];
  return lists.flatMap(([field, map]) => Object.keys(map ?? {}).filter((f) => !known.has(f)).map((f) => `${field}: unknown GPU flavour ${f}`));
}

/** Events and metrics of a pass whose status was written. */
function report(q: ResourceQuota, sessions: AnalysisSession[], decision: AdmissionDecision, released: Reservation[], actions: BudgetActions, deps: QuotaDeps, now: number): void {
  const byUid = new Map(sessions.map((s) => [s.metadata.uid, s]));
  const previouslyWaiting = new Map((q.status?.waiting ?? []).map((w) => [w.uid, w]));
  for (const r of decision.admitted) {
    const s = byUid.get(r.uid);
    const since = Date.parse(previouslyWaiting.get(r.uid)?.since ?? '') || Date.parse(s?.metadata.creationTimestamp ?? '') || now;
    const waited = Math.max(0, (now - since) / 1000);
    deps.metrics.admitted(q, waited);
    if (s) deps.events.record({ regarding: s as KubeObject, related: q as KubeObject, type: 'Normal', reason: 'QuotaAdmitted', action: 'Admit', note: `Admitted by quota ${q.metadata.name} as run ${r.run} after waiting ${Math.round(waited)}s.` });
  }
  for (const w of decision.waiting) {
    const s = byUid.get(w.uid);
    if (s && !previouslyWaiting.has(w.uid)) deps.events.record({ regarding: s as KubeObject, related: q as KubeObject, type: 'Normal', reason: 'QuotaQueued', action: 'Admit', note: w.message });
  }
  for (const r of decision.rejected) {
    const s = byUid.get(r.uid);
    if (s) deps.events.record({ regarding: s as KubeObject, related: q as KubeObject, type: 'Warning', reason: 'QuotaRejected', action: 'Admit', note: r.message });
  }
  for (const r of released) deps.metrics.released(q, r);
  for (const w of actions.warn) {
    deps.events.record({ regarding: q as KubeObject, type: 'Warning', reason: w.percent >= 100 ? 'BudgetExhausted' : 'BudgetWarning', action: 'Account', note: w.message });
    for (const r of q.status?.reservations ?? []) {
      const s = byUid.get(r.uid);
      if (s && (w.budget === 'gpu' ? r.gpus > 0 : r.cpuMillis > 0)) deps.events.record({ regarding: s as KubeObject, related: q as KubeObject, type: 'Warning', reason: w.percent >= 100 ? 'BudgetExhausted' : 'BudgetWarning', action: 'Account', note: w.message });
    }
  }
  for (const r of actions.stop) {
    const s = byUid.get(r.uid);
    if (s) deps.events.record({ regarding: s as KubeObject, related: q as KubeObject, type: 'Warning', reason: 'BudgetStop', action: 'Stop', note: 'The proposal\'s budget is used up and the grace period is over: the session is stopped; its home is kept.' });
  }
}

// SPDX-License-Identifier: Apache-2.0
/**
 * Proposal quota budgets and accounting on the real control plane, as an admin checks
 * them: usage records whose GPU-seconds add up exactly to the quota's consumption across
 * stop, resume and an operator restart; a wiped quota status rebuilt to the same figures;
 * an exhausted GPU budget (Events at 80% and 100%, sessions stopped with their home kept
 * or left running by policy); the facility default quota; and the quota metrics.
 * Budgets are fractions of an hour (0.01 GPU-hours = 36 GPU-seconds), so time is scaled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisSession } from '../../src/api/v1alpha1/analysis-session.ts';
import type { ResourceQuota } from '../../src/api/v1alpha1/resource-quota.ts';
import { deleteFreshNamespaces } from './cleanup.ts';
import { core, freshNamespace, kubectl, waitFor } from './helpers.ts';
import { startOperator } from './operator.ts';
import type { OperatorProcess } from './operator.ts';
import { createQuota, editQuota, getQuota, listQuotas } from './quota.ts';
import { configWithQuotas, CPU_SESSION, eventReasons, GPU_SESSION, quotaRow, sample, secondsBetween, usageRecords, wipeQuotaStatus } from './quota-budget-helpers.ts';
import { createSession, deleteSession, getSession, isPhase, patchSession, readyReason, waitSession } from './sessions.ts';

const PROPOSAL = { 'panalysis.io/proposal': '20231234' };
let operator: OperatorProcess;

const quotaCondition = (s: AnalysisSession) => s.status?.conditions?.find((c) => c.type === 'QuotaAdmitted');
const isStopped = isPhase('Stopped');
const runOf = (s: AnalysisSession) => s.status?.quota?.run;

async function waitQuota(ns: string, name: string, what: string, check: (q: ResourceQuota) => boolean, timeoutMs = 60_000): Promise<ResourceQuota> {
  let last: ResourceQuota | undefined;
  try {
    await waitFor(`quota ${ns}/${name}: ${what}`, async () => check((last = await getQuota(ns, name))), timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}; last status: ${JSON.stringify(last?.status)}`, { cause: err });
  }
  return last!;
}

/** Stops the session and waits until its run is released (its usage record written). */
async function stopAndRelease(ns: string, quota: string, name: string): Promise<void> {
  await patchSession(ns, name, { state: 'Stopped' });
  await waitSession(ns, name, 'stopped', isStopped);
  await waitQuota(ns, quota, `${name} released`, (q) => !q.status?.reservations?.some((r) => r.session === name));
}

beforeAll(async () => {
  operator = await startOperator();
});
afterAll(async () => {
  await deleteFreshNamespaces();
  await operator?.stop();
});

describe('ResourceQuota (panalysis.io) budgets and accounting', () => {
  it('charges exactly the GPU-seconds of every run across stop, resume and an operator restart', async () => {
    const ns = await freshNamespace('qbudget', PROPOSAL);
    await createQuota(ns, 'budget', { budgets: { gpuHours: 100 } });
    await createSession(ns, 'gpu', GPU_SESSION);
    await waitSession(ns, 'gpu', 'running as run 1', (s) => isPhase('Running')(s) && runOf(s) === 1);
    await stopAndRelease(ns, 'budget', 'gpu');
    await patchSession(ns, 'gpu', { state: 'Running' });
    await waitSession(ns, 'gpu', 'running as run 2', (s) => isPhase('Running')(s) && runOf(s) === 2);
    await operator.stop();
    operator = await startOperator();
    await stopAndRelease(ns, 'budget', 'gpu');

    const records = await usageRecords(ns);
    expect(records.map((r) => [r.spec.session, r.spec.run, r.spec.endReason, r.spec.gpus, r.spec.gpuFlavour, r.spec.user, r.spec.profile])).toEqual([
      ['gpu', 1, 'Stopped', 1, 'a100', 'alice', 'jupyter-scipy'],
      ['gpu', 2, 'Stopped', 1, 'a100', 'alice', 'jupyter-scipy'],
    ]);
    for (const r of records) expect(r.spec.gpuSeconds).toBe(r.spec.gpus * secondsBetween(r.spec.start, r.spec.end));
    // Run 2 spans the operator restart: it cannot have lasted zero seconds.
    expect(records[1]!.spec.gpuSeconds).toBeGreaterThan(0);
    const total = records.reduce((sum, r) => sum + r.spec.gpuSeconds, 0);
    const quota = await getQuota(ns, 'budget');
    expect(quota.status?.budgets?.gpuSecondsConsumed).toBe(total);
    expect(quota.status?.reservations).toEqual([]);
    const [used, limit] = (quota.status?.summary?.gpuHours ?? '').split('/');
    expect(limit).toBe('100');
    expect(Math.abs(Number(used) - total / 3600)).toBeLessThan(0.01);
    expect((await quotaRow(ns, 'budget'))['GPU-H']).toBe(quota.status?.summary?.gpuHours);
  });

  it('rebuilds a wiped quota status to the same figures and never reuses a run number', async () => {
    const ns = await freshNamespace('qrebuild', PROPOSAL);
    await createQuota(ns, 'ledger', { hard: { sessions: 3 }, budgets: { gpuHours: 100, cpuHours: 100 } });
    await createSession(ns, 'a', GPU_SESSION);
    await waitSession(ns, 'a', 'running as run 1', (s) => isPhase('Running')(s) && runOf(s) === 1);
    await stopAndRelease(ns, 'ledger', 'a');
    await createSession(ns, 'b', CPU_SESSION);
    await waitSession(ns, 'b', 'running as run 2', (s) => isPhase('Running')(s) && runOf(s) === 2);
    await deleteSession(ns, 'b');
    await waitQuota(ns, 'ledger', 'b released', (q) => !q.status?.reservations?.some((r) => r.session === 'b'));
    await patchSession(ns, 'a', { state: 'Running' });
    await waitSession(ns, 'a', 'running as run 3', (s) => isPhase('Running')(s) && runOf(s) === 3);
    const before = await waitQuota(ns, 'ledger', 'run 3 of a reserved', (q) => q.status?.reservations?.length === 1);

    await wipeQuotaStatus(ns, 'ledger');
    const after = await waitQuota(ns, 'ledger', 'status rebuilt', (q) => typeof q.status?.nextRun === 'number', 30_000);
    expect(after.metadata.uid).toBe(before.metadata.uid);
    expect(after.status?.budgets?.gpuSecondsConsumed).toBe(before.status?.budgets?.gpuSecondsConsumed);
    expect(after.status?.budgets?.cpuMilliSecondsConsumed).toBe(before.status?.budgets?.cpuMilliSecondsConsumed);
    const pick = (q: ResourceQuota) => q.status?.reservations?.map((r) => ({ session: r.session, run: r.run, admittedAt: r.admittedAt, gpus: r.gpus, flavour: r.flavour, cpuMillis: r.cpuMillis, memoryBytes: r.memoryBytes }));
    expect(pick(after)).toEqual(pick(before));
    expect(after.status?.used).toEqual(before.status?.used);
    expect(after.status?.summary?.sessions).toBe('1/3');
    expect((await getSession(ns, 'a')).status?.phase).toBe('Running');

    await createSession(ns, 'c', CPU_SESSION);
    const c = await waitSession(ns, 'c', 'running', (s) => isPhase('Running')(s) && runOf(s) !== undefined);
    expect(runOf(c)).toBeGreaterThan(3);
    await stopAndRelease(ns, 'ledger', 'a');
    await stopAndRelease(ns, 'ledger', 'c');
    const records = await usageRecords(ns);
    expect(records.map((r) => [r.spec.session, r.spec.run, r.spec.endReason])).toEqual([['a', 1, 'Stopped'], ['b', 2, 'Deleted'], ['a', 3, 'Stopped'], ['c', runOf(c), 'Stopped']]);
    expect(new Set(records.map((r) => r.metadata.name)).size).toBe(4);
    expect(records[2]!.spec.start).toBe(pick(before)![0]!.admittedAt);
    const final = await getQuota(ns, 'ledger');
    expect(final.status?.budgets?.gpuSecondsConsumed).toBe(records.reduce((sum, r) => sum + r.spec.gpuSeconds, 0));
    expect(final.status?.budgets?.cpuMilliSecondsConsumed).toBe(records.reduce((sum, r) => sum + r.spec.cpuMilliSeconds, 0));
  });

  // The Stop and Warn scenarios run side by side (both budgets run out in the same scaled minute); three tests check them.
  let stopNs = '';
  let warnNs = '';

  it('warns at 80% and 100% of a GPU budget and, under onExhausted: Stop, stops running sessions after the grace period with their home kept', async () => {
    stopNs = await freshNamespace('qstop', PROPOSAL);
    warnNs = await freshNamespace('qwarn', PROPOSAL);
    await createQuota(stopNs, 'budget', { budgets: { gpuHours: 0.01, onExhausted: 'Stop', gracePeriod: '5s' } });
    await createQuota(warnNs, 'budget', { budgets: { gpuHours: 0.01 } });
    await Promise.all([createSession(stopNs, 'gpu', GPU_SESSION), createSession(warnNs, 'gpu', GPU_SESSION)]);
    await Promise.all([stopNs, warnNs].map((ns) => waitSession(ns, 'gpu', 'running', isPhase('Running'))));

    for (const [kind, name] of [['ResourceQuota', 'budget'], ['AnalysisSession', 'gpu']] as const) {
      await waitFor(`BudgetWarning and BudgetExhausted Events on ${kind} ${name}`, async () => {
        const reasons = await eventReasons(stopNs, kind, name);
        return reasons.includes('BudgetWarning') && reasons.includes('BudgetExhausted');
      }, 90_000);
    }
    const exhausted = await waitQuota(stopNs, 'budget', 'the run stopped and released', (q) => q.status?.budgets?.exhaustedAt !== undefined && q.status.reservations?.length === 0, 60_000);
    expect(exhausted.status?.conditions?.find((c) => c.type === 'BudgetExhausted')?.status).toBe('True');
    expect((await eventReasons(stopNs, 'AnalysisSession', 'gpu'))).toContain('BudgetStop');
    const records = await usageRecords(stopNs);
    expect(records.map((r) => [r.spec.session, r.spec.run, r.spec.endReason])).toEqual([['gpu', 1, 'BudgetExhausted']]);
    expect(exhausted.status?.budgets?.gpuSecondsConsumed).toBe(records[0]!.spec.gpuSeconds);
    expect(records[0]!.spec.gpuSeconds).toBeGreaterThanOrEqual(36);
    expect((await core().listNamespacedPod({ namespace: stopNs })).items).toEqual([]);
    await core().readNamespacedPersistentVolumeClaim({ namespace: stopNs, name: 'gpu-home' });

    await createSession(stopNs, 'gpu2', GPU_SESSION);
    await createSession(stopNs, 'cpu', CPU_SESSION);
    const waiting = await waitSession(stopNs, 'gpu2', 'waiting for the GPU budget', (s) => quotaCondition(s)?.reason === 'GpuBudgetExhausted');
    expect(waiting.status?.phase).toBe('Pending');
    await waitSession(stopNs, 'cpu', 'running', isPhase('Running'));
  });

  // Once its run is released the session stopped by the budget stays Stopped (it does not queue again by itself).
  it('keeps a session stopped by the budget Stopped, with reason BudgetExhausted, until its user resumes it', async () => {
    expect(stopNs).not.toBe('');
    const still = await getSession(stopNs, 'gpu');
    expect(still.spec.state ?? 'Running').toBe('Running');
    expect({ phase: still.status?.phase, ready: readyReason(still), quota: quotaCondition(still)?.reason }).toEqual({ phase: 'Stopped', ready: 'BudgetExhausted', quota: 'BudgetExhausted' });
    expect((await getQuota(stopNs, 'budget')).status?.waiting?.map((w) => w.session)).toEqual(['gpu2']);
  });

  it('under onExhausted: Warn (the default) only warns: the session keeps running after the budget is used up', async () => {
    expect(warnNs).not.toBe('');
    const warned = await waitQuota(warnNs, 'budget', 'exhausted', (q) => q.status?.budgets?.exhaustedAt !== undefined && q.status.conditions?.some((c) => c.type === 'BudgetExhausted' && c.status === 'True') === true, 90_000);
    await waitFor('BudgetWarning and BudgetExhausted Events on the running session', async () => {
      const reasons = await eventReasons(warnNs, 'AnalysisSession', 'gpu');
      return reasons.includes('BudgetWarning') && reasons.includes('BudgetExhausted');
    }, 30_000);
    expect(warned.status?.reservations?.map((r) => r.session)).toEqual(['gpu']);
    expect(warned.status?.reservations?.[0]?.stop).toBeUndefined();
    const running = await getSession(warnNs, 'gpu');
    expect(running.status?.phase).toBe('Running');
    expect(quotaCondition(running)?.status).toBe('True');
    expect(await usageRecords(warnNs)).toEqual([]);
    await createSession(warnNs, 'gpu2', GPU_SESSION);
    await waitSession(warnNs, 'gpu2', 'waiting for the GPU budget', (s) => quotaCondition(s)?.reason === 'GpuBudgetExhausted');
    expect((await getSession(warnNs, 'gpu')).status?.phase).toBe('Running');
  });

  it('exports limits, usage, pending sessions by reason and admission waits as metrics', async () => {
    const ns = await freshNamespace('qmetrics', PROPOSAL);
    await createQuota(ns, 'policy', { hard: { sessions: 1 } });
    const labels = { namespace: ns, quota: 'policy' };
    await createSession(ns, 'first', CPU_SESSION);
    await waitSession(ns, 'first', 'running', isPhase('Running'));
    await createSession(ns, 'second', { ...CPU_SESSION, user: 'alice' });
    await waitSession(ns, 'second', 'waiting', (s) => quotaCondition(s)?.reason === 'SessionLimitReached');
    await waitFor('metrics of one running and one waiting session', async () => {
      const m = await operator.metrics();
      return sample(m, 'panalysis_quota_sessions_pending', { ...labels, reason: 'SessionLimitReached' }) === 1;
    }, 30_000);
    let m = await operator.metrics();
    expect(sample(m, 'panalysis_quota_limit', { ...labels, proposal: '20231234', resource: 'sessions' })).toBe(1);
    expect(sample(m, 'panalysis_quota_used', { ...labels, proposal: '20231234', resource: 'sessions' })).toBe(1);
    expect(sample(m, 'panalysis_quota_limit', { ...labels, resource: 'gpus' })).toBeUndefined();
    expect(sample(m, 'panalysis_quota_admission_wait_seconds_count', labels)).toBe(1);

    await deleteSession(ns, 'first');
    await waitSession(ns, 'second', 'running', isPhase('Running'));
    await waitFor('metrics of the second admission', async () => sample(await operator.metrics(), 'panalysis_quota_admission_wait_seconds_count', labels) === 2, 30_000);
    m = await operator.metrics();
    expect(sample(m, 'panalysis_quota_used', { ...labels, resource: 'sessions' })).toBe(1);
    expect(sample(m, 'panalysis_quota_sessions_pending', { ...labels, reason: 'SessionLimitReached' })).toBeUndefined();
    expect(sample(m, 'panalysis_quota_admission_wait_seconds_sum', labels)).toBeGreaterThan(0);
  });

  it('writes the facility default quota into proposal namespaces, enforces it, keeps admin edits, and steps aside for an own quota', async () => {
    await operator.stop();
    operator = await startOperator({ config: configWithQuotas({ default: { hard: { sessions: 2 } }, defaultName: 'default' }) });
    const plain = await freshNamespace('qplain');
    const ns = await freshNamespace('qdefault', PROPOSAL);
    const written = await waitQuota(ns, 'default', 'written from the facility default', () => true, 30_000);
    expect(written.metadata.labels?.['panalysis.io/default-quota']).toBe('true');
    expect(written.spec).toEqual({ hard: { sessions: 2 }, proposal: '20231234', onExceeded: 'Queue' });
    expect(await listQuotas(plain)).toEqual([]);

    const names = ['s1', 's2', 's3'];
    for (const name of names) await createSession(ns, name, CPU_SESSION);
    await Promise.all(names.slice(0, 2).map((name) => waitSession(ns, name, 'running', isPhase('Running'))));
    await waitSession(ns, 's3', 'waiting', (s) => quotaCondition(s)?.reason === 'SessionLimitReached');

    await editQuota(ns, 'default', (spec) => ({ ...spec, hard: { sessions: 3 } }));
    await waitSession(ns, 's3', 'running under the edited default', isPhase('Running'));
    // A change of the namespace brings the default writer back: it must leave the edited object alone.
    await kubectl('label', 'namespace', ns, 'touched=yes');
    await waitQuota(ns, 'default', 'all three reserved', (q) => q.status?.reservations?.length === 3);
    expect((await getQuota(ns, 'default')).spec.hard).toEqual({ sessions: 3 });

    const own = await createQuota(ns, 'policy', { hard: { sessions: 5 } });
    await waitFor('the written default removed', async () => (await listQuotas(ns)).every((q) => q.metadata.name !== 'default'), 30_000);
    const governing = await waitQuota(ns, 'policy', 'the three sessions taken over', (q) => q.status?.reservations?.length === 3);
    expect(governing.metadata.uid).toBe(own.metadata.uid);
    expect(governing.status?.reservations?.map((r) => r.session).sort()).toEqual(names);
    expect(governing.status?.summary?.sessions).toBe('3/5');
    for (const name of names) expect((await getSession(ns, name)).status?.phase).toBe('Running');
    const all = await kubectl('get', 'pquota', '-A');
    expect(all.split('\n').filter((line) => line.startsWith(`${ns} `))).toEqual([expect.stringMatching(new RegExp(`^${ns}\\s+policy\\s`))]);
    expect(all).not.toMatch(new RegExp(`^${plain}\\s`, 'm'));
  });
});

// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { decideSession } from './decide.ts';
import type { IdentityFact, SessionFacts } from './decide.ts';
import type { QuotaFact } from './quota-gate.ts';
import { demoConfig, makeSession, readyPod } from '../../../test/fixtures/session.ts';
import type { Reservation, ResourceQuota, ResourceQuotaStatus } from '../../api/v1alpha1/resource-quota.ts';

const config = demoConfig();
const NOW = Date.parse('2026-11-25T12:00:00Z');
const alice: IdentityFact = { kind: 'found', identity: { user: 'alice', uid: 20001, gid: 20001, groups: [{ name: 'p1', gid: 30001 }] } };
const quota = (status: ResourceQuotaStatus): QuotaFact => ({ kind: 'governed', quota: { apiVersion: 'panalysis.io/v1alpha1', kind: 'ResourceQuota', metadata: { name: 'policy', namespace: 'proposal-1' }, spec: { hard: { sessions: 1 } }, status } as ResourceQuota });
const entry = (extra: Partial<Reservation> = {}): Reservation => ({ uid: 'uid-nb', session: 'nb', user: 'alice', run: 3, cpuMillis: 2000, memoryBytes: 8 * 2 ** 30, gpus: 0, admittedAt: '2026-11-25T11:00:00Z', ...extra });
const facts = (q: QuotaFact, extra: Partial<SessionFacts> = {}): SessionFacts => ({ identity: alice, credentials: { secret: 'tok' }, namespaceUid: 'ns-uid', quota: q, ...extra });
const kinds = (plan: ReturnType<typeof decideSession>) => plan.apply.map((o) => o.kind);
const quotaCondition = (plan: ReturnType<typeof decideSession>) => plan.status.conditions?.find((c) => c.type === 'QuotaAdmitted');
const session = () => makeSession('nb');

describe('the quota gate of a session', () => {
  it('creates nothing while the session waits, and says for which limit and where in the queue', () => {
    const waiting = { uid: 'uid-nb', session: 'nb', position: 2, reason: 'SessionLimitReached', message: 'Waiting for quota: The proposal runs 1 of 1 session allowed at once. Position 2.' };
    const plan = decideSession(session().obj(), facts(quota({ nextRun: 4, reservations: [], waiting: [waiting] })), config, NOW);
    expect(kinds(plan)).toEqual([]);
    expect(plan.status.phase).toBe('Pending');
    expect(plan.status.message).toBe(waiting.message);
    expect(quotaCondition(plan)).toMatchObject({ status: 'False', reason: 'SessionLimitReached', message: waiting.message });
    expect(plan.status.quota).toEqual({ name: 'policy' });
  });

  it('starts the session once it holds a reservation, and records the run', () => {
    const plan = decideSession(session().obj(), facts(quota({ nextRun: 4, reservations: [entry()] })), config, NOW);
    expect(kinds(plan)).toEqual(['Secret', 'PersistentVolumeClaim', 'NetworkPolicy', 'Pod']);
    expect(quotaCondition(plan)).toMatchObject({ status: 'True', reason: 'Admitted', message: 'Admitted by quota policy (run 3).' });
    expect(plan.status.quota).toEqual({ name: 'policy', run: 3, admittedAt: '2026-11-25T11:00:00Z' });
  });

  it('never starts a pod for a run it already ended, even if a stale ledger still lists it', () => {
    const s = session().status({ quota: { name: 'policy', run: 3, doneRun: 3, endedAt: '2026-11-25T11:30:00Z' } }).obj();
    const plan = decideSession(s, facts(quota({ nextRun: 4, reservations: [entry()] })), config, NOW);
    expect(kinds(plan)).toEqual([]);
    expect(quotaCondition(plan)).toMatchObject({ status: 'False', reason: 'AwaitingQuota' });
  });

  it('is refused for the generation the quota refused, and asks again when the spec changes', () => {
    const rejected = [{ uid: 'uid-nb', session: 'nb', generation: 1, reason: 'ExceedsQuota', message: 'spec.resources.gpu.count: 3 GPUs is more than the quota policy of the proposal allows at any time (gpus: 2); ask for at most 2.' }];
    const plan = decideSession(session().obj(), facts(quota({ nextRun: 1, rejected })), config, NOW);
    expect(plan.status.phase).toBe('Failed');
    expect(quotaCondition(plan)).toMatchObject({ status: 'False', reason: 'ExceedsQuota', message: rejected[0]!.message });
    const edited = session().obj();
    edited.metadata.generation = 2;
    expect(decideSession(edited, facts(quota({ nextRun: 1, rejected })), config, NOW).status.phase).toBe('Pending');
  });

  it('keeps a running pod that holds no reservation (lowering or rebuilding a quota never stops running work)', () => {
    const s = session().obj();
    const built = decideSession(s, facts({ kind: 'unlimited' }), config, NOW).apply.find((o) => o.kind === 'Pod') as V1Pod;
    const pod = readyPod(built, 'node-1', '2026-11-25T11:00:00Z');
    const plan = decideSession(s, facts(quota({ nextRun: 1, reservations: [] }), { pod }), config, NOW);
    expect(plan.delete).toEqual([]);
    expect(plan.status.phase).toBe('Running');
  });

  it('stops the pod when the budget policy asks, then ends the run once the pod is gone', () => {
    const s = session().status({ quota: { name: 'policy', run: 3, admittedAt: '2026-11-25T11:00:00Z' } }).obj();
    const stop = { reason: 'BudgetExhausted', message: 'The proposal has used up its budget.', at: '2026-11-25T11:55:00Z' };
    const built = decideSession(s, facts({ kind: 'unlimited' }), config, NOW).apply.find((o) => o.kind === 'Pod') as V1Pod;
    const running = decideSession(s, facts(quota({ nextRun: 4, reservations: [entry({ stop })] }), { pod: readyPod(built, 'node-1', '2026-11-25T11:00:00Z') }), config, NOW);
    expect(running.delete.map((d) => d.kind)).toEqual(['Pod']);
    expect(running.endRun).toBeUndefined();
    const gone = decideSession(s, facts(quota({ nextRun: 4, reservations: [entry({ stop })] })), config, NOW);
    expect(gone.status.phase).toBe('Stopped');
    expect(quotaCondition(gone)).toMatchObject({ status: 'False', reason: 'BudgetExhausted' });
    expect(gone.endRun).toBe(3);
    expect(gone.status.quota?.stop).toEqual({ reason: 'BudgetExhausted', message: 'The proposal has used up its budget.', generation: 1 });
    expect(kinds(gone)).toEqual([]);
  });

  it('keeps a session the budget stopped Stopped after its run is released, until its spec changes', () => {
    const stop = { reason: 'BudgetExhausted', message: 'The proposal has used up its budget.', generation: 1 };
    const released = session().status({ quota: { name: 'policy', run: 3, doneRun: 3, stop } }).obj();
    const plan = decideSession(released, facts(quota({ nextRun: 4, reservations: [] })), config, NOW);
    expect(plan.status.phase).toBe('Stopped');
    expect(quotaCondition(plan)).toMatchObject({ status: 'False', reason: 'BudgetExhausted' });
    expect(plan.status.message).toMatch(/Set spec\.state: Stopped and back to Running to ask the quota again\.$/);
    expect(kinds(plan)).toEqual([]);
    const resumed = session().status({ quota: { name: 'policy', run: 3, doneRun: 3, stop } }).obj();
    resumed.metadata.generation = 3;
    const again = decideSession(resumed, facts(quota({ nextRun: 4, reservations: [] })), config, NOW);
    expect(again.status.phase).toBe('Pending');
    expect(again.status.quota?.stop).toBeUndefined();
  });

  it('ends the run of a stopped session only once its pod is gone', () => {
    const s = session().stopped().status({ quota: { name: 'policy', run: 3, admittedAt: '2026-11-25T11:00:00Z' } }).obj();
    const plan = decideSession(s, facts(quota({ nextRun: 4, reservations: [entry()] })), config, NOW);
    expect(plan.status.phase).toBe('Stopped');
    expect(plan.endRun).toBe(3);
  });

  it('ends the run of a stopped session while the directory cannot be reached, so its room goes to the next', () => {
    const s = session().stopped().status({ quota: { name: 'policy', run: 3, admittedAt: '2026-11-25T11:00:00Z' } }).obj();
    const plan = decideSession(s, facts(quota({ nextRun: 4, reservations: [entry()] }), { identity: { kind: 'unavailable', message: 'ldap down' } }), config, NOW);
    expect(kinds(plan)).toEqual([]);
    expect(plan.endRun).toBe(3);
  });

  it('waits for the facility default quota where one will be written, and runs unlimited where none is', () => {
    expect(quotaCondition(decideSession(session().obj(), facts({ kind: 'awaitingDefault' }), config, NOW))).toMatchObject({ status: 'False', reason: 'AwaitingQuota' });
    const free = decideSession(session().obj(), facts({ kind: 'unlimited' }), config, NOW);
    expect(kinds(free)).toContain('Pod');
    expect(quotaCondition(free)).toMatchObject({ status: 'True', reason: 'NoQuota' });
  });
});

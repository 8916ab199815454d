// SPDX-License-Identifier: Apache-2.0
/**
 * Proposal quota admission on the real control plane, as an admin or a portal checks it:
 * a GPU limit (never more GPUs held than allowed, CPU-only sessions not held behind the GPU
 * queue, a request that could never fit refused at once); two operator replicas with the
 * leader killed while admitting; `onExceeded: Reject`; a window boundary; a stopped
 * session giving its room to the next and queueing again when resumed.
 */
import { describe, expect, it } from 'vitest';
import type { AnalysisSession } from '../../src/api/v1alpha1/analysis-session.ts';
import { formatTime } from '../../src/runtime/conditions.ts';
import { freshNamespace, kubectl, waitFor } from './helpers.ts';
import { operatorsPerTest, startOperator } from './operator.ts';
import type { OperatorProcess } from './operator.ts';
import { createSession, deleteSession, getSession, isPhase, patchSession, waitSession } from './sessions.ts';
import { createQuota, editQuota, getQuota } from './quota.ts';
import { creationOrder, jupyter, numbered, quotaCondition, sessionsOf, usageRecordsOf, watchLedger } from './quota-admission-helpers.ts';

const USERS = ['alice', 'bob', 'dave'];
operatorsPerTest();

const proposalNamespace = (prefix: string) => freshNamespace(prefix, { 'panalysis.io/proposal': '20231234' });
const phaseOf = (all: AnalysisSession[], phase: string) => all.filter((s) => s.status?.phase === phase).map((s) => s.metadata.name!).sort();
const waitingReason = (reason: string) => (s: AnalysisSession) => s.status?.phase === 'Pending' && quotaCondition(s)?.reason === reason;

describe('ResourceQuota (panalysis.io) admission', () => {
  it('holds at most 2 GPUs under gpus: 2, starts CPU-only sessions past the GPU queue, and refuses at once a session asking for 3 GPUs', async () => {
    const ns = await proposalNamespace('qgpu');
    await startOperator();
    await createQuota(ns, 'policy', { hard: { gpus: 2 } });
    const ledger = await watchLedger(ns);
    try {
      const gpu = numbered('gpu', 10);
      const cpu = numbered('cpu', 3);
      await Promise.all(gpu.map((n, i) => createSession(ns, n, jupyter(USERS[i % 3]!, 1))));
      await Promise.all(cpu.map((n, i) => createSession(ns, n, jupyter(USERS[i % 3]!))));
      let all: AnalysisSession[] = [];
      await waitFor('2 GPU and 3 CPU-only sessions running, 8 waiting for a GPU', async () => {
        all = await sessionsOf(ns);
        return phaseOf(all, 'Running').length === 5 && all.filter(waitingReason('GpuLimitReached')).length === 8;
      }, 120_000);
      expect(phaseOf(all, 'Running').filter((n) => n.startsWith('cpu'))).toEqual(cpu);
      for (const n of cpu) expect(quotaCondition(all.find((s) => s.metadata.name === n)!), n).toMatchObject({ status: 'True', reason: 'Admitted' });
      const order = creationOrder(all.filter((s) => s.metadata.name!.startsWith('gpu')));
      expect(phaseOf(all, 'Running').filter((n) => n.startsWith('gpu'))).toEqual(order.slice(0, 2).sort());
      for (const s of all.filter(waitingReason('GpuLimitReached'))) {
        expect(quotaCondition(s)?.message).toMatch(/^Waiting for quota: 2 of 2 GPUs are in use; this session needs 1 \(gpus in spec\.hard of quota policy\)\./);
      }
      const quota = await getQuota(ns, 'policy');
      expect(quota.status?.summary).toMatchObject({ gpus: '2/2', sessions: '5/-', waiting: 8 });
      expect(quota.status?.waiting?.map((w) => [w.session, w.position])).toEqual(order.slice(2).map((n, i) => [n, i + 1]));

      await createSession(ns, 'gpu-big', { ...jupyter('alice'), resources: { gpu: { flavour: 'a100', count: 3 } } });
      const big = await waitSession(ns, 'gpu-big', 'refused', isPhase('Failed'));
      expect(quotaCondition(big)).toMatchObject({ status: 'False', reason: 'ExceedsQuota' });
      expect(quotaCondition(big)?.message).toBe('spec.resources.gpu.count: 3 GPUs is more than the quota policy of the proposal allows at any time (gpus: 2); ask for at most 2.');
      expect(ledger.everWaited().has('gpu-big'), 'a session that could never fit is not queued').toBe(false);

      await deleteSession(ns, order[0]!);
      await waitSession(ns, order[2]!, 'Running (the next GPU session)', isPhase('Running'));
      expect(ledger.peakGpusReserved(), 'GPUs reserved at once').toBe(2);
      expect(ledger.peakGpuPods(), 'GPU pods at once').toBe(2);
      expect(ledger.admissions().filter((n) => n.startsWith('gpu'))).toEqual(order.slice(0, 3));
    } finally {
      ledger.stop();
    }
  });

  it('admits 50 sessions against sessions: 4 in creation order with two replicas, the leader killed while admitting', async () => {
    const ns = await proposalNamespace('qlead');
    const replicas = await Promise.all(['a', 'b'].map((id) => startOperator({ leaderElect: true, id, leaseNamespace: ns })));
    await waitFor('a leader', async () => (await Promise.all(replicas.map((r) => r.leading()))).some(Boolean), 30_000);
    await createQuota(ns, 'policy', { hard: { sessions: 4 } });
    const ledger = await watchLedger(ns);
    try {
      await Promise.all(numbered('q', 50).map((n, i) => createSession(ns, n, jupyter(USERS[i % 3]!))));
      const order = creationOrder(await sessionsOf(ns));
      const deleted = new Set<string>();
      let standby: OperatorProcess | undefined;
      for (let next = order.slice(0, 4); next.length > 0; next = order.slice(deleted.size, deleted.size + 4)) {
        let admitted: string[] = [];
        await waitFor(`the next ${next.length} sessions admitted and running after ${deleted.size} deleted`, async () => {
          const [quota, all] = await Promise.all([getQuota(ns, 'policy'), sessionsOf(ns)]);
          admitted = (quota.status?.reservations ?? []).map((r) => r.session).filter((n) => !deleted.has(n)).sort();
          const up = new Set(phaseOf(all, 'Running'));
          return admitted.length === next.length && admitted.every((n) => up.has(n));
        }, 60_000);
        expect(admitted, `admitted after ${deleted.size} deleted`).toEqual([...next].sort());
        for (const n of next) deleted.add(n);
        await Promise.all(next.map((n) => deleteSession(ns, n)));
        if (!standby) {
          const leading = await Promise.all(replicas.map((r) => r.leading()));
          await replicas[leading.indexOf(true)]!.stop('SIGKILL');
          standby = replicas[leading.indexOf(true) === 0 ? 1 : 0]!;
        }
      }
      await waitFor('every run released', async () => (await getQuota(ns, 'policy')).status?.reservations?.length === 0, 60_000);
      expect(await standby!.leading()).toBe(true);
      expect(ledger.peakPods()).toBeLessThanOrEqual(4);
      expect(ledger.peakReserved()).toBeLessThanOrEqual(4);
      expect(ledger.admissions()).toEqual(order);
      const records = (await usageRecordsOf(ns)).sort((a, b) => a.run - b.run);
      expect(records.map((r) => r.session), 'one record per run, runs numbered in admission order').toEqual(order);
      expect(new Set(records.map((r) => r.run)).size).toBe(50);
      expect(records.every((r) => r.endReason === 'Deleted')).toBe(true);
    } finally {
      ledger.stop();
    }
  }, 240_000);

  it('under onExceeded: Reject runs 4 of 50, refuses 46 for good, and admits a refused session that asks again when room is free', async () => {
    const ns = await proposalNamespace('qrej');
    await startOperator();
    await createQuota(ns, 'policy', { hard: { sessions: 4 }, onExceeded: 'Reject' });
    const ledger = await watchLedger(ns);
    try {
      await Promise.all(numbered('r', 50).map((n, i) => createSession(ns, n, jupyter(USERS[i % 3]!))));
      let all: AnalysisSession[] = [];
      await waitFor('4 sessions running and 46 refused', async () => {
        all = await sessionsOf(ns);
        return phaseOf(all, 'Running').length === 4 && phaseOf(all, 'Failed').length === 46;
      }, 180_000);
      const runs = phaseOf(all, 'Running');
      const refused = all.filter((s) => s.status?.phase === 'Failed');
      for (const s of refused) {
        expect(quotaCondition(s), s.metadata.name).toMatchObject({
          status: 'False', reason: 'SessionLimitReached',
          message: 'The proposal runs 4 of 4 sessions allowed at once (sessions in spec.hard of quota policy). The quota rejects sessions that do not fit (spec.onExceeded: Reject); create the session again when room is free.',
        });
      }
      expect((await getQuota(ns, 'policy')).status?.summary).toMatchObject({ sessions: '4/4', waiting: 0 });

      await deleteSession(ns, runs[0]!);
      await waitFor('the deleted run released', async () => (await getQuota(ns, 'policy')).status?.summary?.sessions === '3/4', 60_000);
      expect((await usageRecordsOf(ns)).map((r) => r.session)).toEqual([runs[0]]);
      expect(ledger.admissions().sort(), 'the freed room went to no refused session').toEqual(runs);
      const again = refused[0]!.metadata.name!;
      await patchSession(ns, again, { state: 'Stopped' });
      await waitSession(ns, again, 'Stopped', isPhase('Stopped'));
      await patchSession(ns, again, { state: 'Running' });
      const admitted = await waitSession(ns, again, 'Running', isPhase('Running'));
      expect(quotaCondition(admitted)).toMatchObject({ status: 'True', reason: 'Admitted' });
      expect(ledger.admissions().sort(), 'no refused session was admitted without asking again').toEqual([...runs, again].sort());
      all = await sessionsOf(ns);
      expect(phaseOf(all, 'Failed')).toEqual(refused.map((s) => s.metadata.name!).filter((n) => n !== again).sort());
      expect(ledger.peakPods()).toBeLessThanOrEqual(4);
    } finally {
      ledger.stop();
    }
  });

  it('switches limits at a window boundary without any other change, and shows the window', async () => {
    const ns = await proposalNamespace('qwin');
    await startOperator();
    const created = await createQuota(ns, 'policy', { hard: { sessions: 1 } });
    // The apiserver's clock, to the second: the window starts 15 s after the quota was created.
    const start = Date.parse(created.metadata.creationTimestamp!) + 15_000;
    await editQuota(ns, 'policy', (spec) => ({ ...spec, windows: [{ name: 'beamtime', start: formatTime(start), end: formatTime(start + 3_600_000), hard: { sessions: 3 } }] }));
    for (const n of numbered('w', 3)) await createSession(ns, n, jupyter('alice'));
    await waitSession(ns, 'w-00', 'Running', isPhase('Running'));
    for (const n of ['w-01', 'w-02']) await waitSession(ns, n, 'waiting for the session limit', waitingReason('SessionLimitReached'));
    const before = await getQuota(ns, 'policy');
    expect(before.status?.window).toBeUndefined();
    expect(before.status?.nextChange).toBe(formatTime(start));
    expect(Date.parse(before.status!.reservations![0]!.admittedAt)).toBeLessThan(start);

    for (const n of ['w-01', 'w-02']) await waitSession(ns, n, 'Running in the window', isPhase('Running'), 60_000);
    const during = await getQuota(ns, 'policy');
    expect(during.status).toMatchObject({ window: 'beamtime', summary: { sessions: '3/3', waiting: 0 } });
    for (const r of during.status!.reservations!.filter((r) => r.session !== 'w-00')) {
      // Admitted at the boundary itself (a requeue at the instant), not at a later resync.
      expect(Date.parse(r.admittedAt)).toBeGreaterThanOrEqual(start);
      expect(Date.parse(r.admittedAt)).toBeLessThanOrEqual(start + 5_000);
    }
    const [header, row] = (await kubectl('get', 'pquota', '-n', ns)).split('\n');
    const column = (name: string, next: string) => row!.slice(header!.indexOf(name), header!.indexOf(next)).trim();
    expect(column('WINDOW', 'SESSIONS')).toBe('beamtime');
    expect(column('SESSIONS', 'GPU')).toBe('3/3');
  });

  it('admits waiting sessions when the quota is raised', async () => {
    const ns = await proposalNamespace('qraise');
    await startOperator();
    await createQuota(ns, 'policy', { hard: { sessions: 1 } });
    for (const n of numbered('e', 3)) await createSession(ns, n, jupyter('bob'));
    await waitSession(ns, 'e-00', 'Running', isPhase('Running'));
    for (const n of ['e-01', 'e-02']) await waitSession(ns, n, 'waiting for the session limit', waitingReason('SessionLimitReached'));
    await editQuota(ns, 'policy', (spec) => ({ ...spec, hard: { sessions: 3 } }));
    for (const n of ['e-01', 'e-02']) await waitSession(ns, n, 'Running after the quota was raised', isPhase('Running'));
    expect((await getQuota(ns, 'policy')).status?.summary).toMatchObject({ sessions: '3/3', waiting: 0 });
  });

  it('releases the room of a stopped session to the next one, and queues it again when resumed', async () => {
    const ns = await proposalNamespace('qstop');
    await startOperator();
    await createQuota(ns, 'policy', { hard: { sessions: 1 } });
    const ledger = await watchLedger(ns);
    try {
      for (const n of ['s-00', 's-01']) await createSession(ns, n, jupyter('dave'));
      await waitSession(ns, 's-00', 'Running', isPhase('Running'));
      await waitSession(ns, 's-01', 'waiting for the session limit', waitingReason('SessionLimitReached'));
      const first = (await getQuota(ns, 'policy')).status!.reservations![0]!;
      expect(first.session).toBe('s-00');

      await patchSession(ns, 's-00', { state: 'Stopped' });
      await waitSession(ns, 's-01', 'Running once s-00 stopped', isPhase('Running'));
      await waitSession(ns, 's-00', 'Stopped', isPhase('Stopped'));
      const records = await usageRecordsOf(ns);
      expect(records.map((r) => [r.session, r.run, r.endReason, r.start])).toEqual([['s-00', first.run, 'Stopped', first.admittedAt]]);

      await patchSession(ns, 's-00', { state: 'Running' });
      const queued = await waitSession(ns, 's-00', 'waiting again', waitingReason('SessionLimitReached'));
      expect(quotaCondition(queued)?.message).toMatch(/^Waiting for quota: The proposal runs 1 of 1 session allowed at once/);
      expect((await getQuota(ns, 'policy')).status?.waiting?.map((w) => [w.session, w.position])).toEqual([['s-00', 1]]);
      await deleteSession(ns, 's-01');
      await waitSession(ns, 's-00', 'Running again', isPhase('Running'));
      const again = (await getQuota(ns, 'policy')).status!.reservations!.find((r) => r.session === 's-00')!;
      expect(again.run).toBeGreaterThan(first.run);
      expect(ledger.admissions()).toEqual(['s-00', 's-01', 's-00']);
      expect(ledger.peakPods()).toBeLessThanOrEqual(1);
      expect((await getSession(ns, 's-00')).status?.quota?.run).toBe(again.run);
    } finally {
      ledger.stop();
    }
  });
});

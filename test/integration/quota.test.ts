// SPDX-License-Identifier: Apache-2.0
/**
 * Proposal quotas on the real control plane: 50 sessions created at once against a limit
 * of 4 never have more than 4 admitted or more than 4 pods at any instant; the rest wait
 * in creation order with the limit they wait for; deleting an admitted one admits the
 * next; a run's usage record is written when it ends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisSession } from '../../src/api/v1alpha1/analysis-session.ts';
import { custom, freshNamespace, waitFor } from './helpers.ts';
import { startOperator } from './operator.ts';
import type { OperatorProcess } from './operator.ts';
import { createSession, deleteSession, getSession } from './sessions.ts';
import { deleteFreshNamespaces } from './cleanup.ts';
import { settled, writesDuringPasses } from './settle.ts';
import { createQuota, getQuota, watchPeaks } from './quota.ts';
import { creationOrder, sessionsOf } from './quota-admission-helpers.ts';

let operator: OperatorProcess;
const USERS = ['alice', 'bob', 'dave'];
const names = (n: number) => Array.from({ length: n }, (_, i) => `q-${String(i).padStart(2, '0')}`);
const quotaReason = (s: AnalysisSession) => s.status?.conditions?.find((c) => c.type === 'QuotaAdmitted');


beforeAll(async () => {
  operator = await startOperator({ resyncSeconds: 2 });
});
afterAll(async () => {
  await deleteFreshNamespaces();
  await operator?.stop();
});

describe('ResourceQuota (panalysis.io) admission', () => {
  it('admits 4 of 50 sessions created at once, queues the rest in creation order, and admits the next when one is deleted', async () => {
    const ns = await freshNamespace('quota', { 'panalysis.io/proposal': '20231234' });
    await createQuota(ns, 'policy', { hard: { sessions: 4 } });
    const peaks = await watchPeaks(ns);
    try {
      await Promise.all(names(50).map((name, i) => createSession(ns, name, { user: USERS[i % 3]!, type: 'jupyter', profile: 'jupyter-scipy' })));
      await waitFor('4 sessions running and 46 waiting', async () => {
        const all = await sessionsOf(ns);
        return all.filter((s) => s.status?.phase === 'Running').length === 4 && all.filter((s) => quotaReason(s)?.reason === 'SessionLimitReached').length === 46;
      }, 180_000);
      const quota = await getQuota(ns, 'policy');
      // Creation order is the apiserver's (creation time to the second, then name): parallel creates may land in another second.
      const order = creationOrder(await sessionsOf(ns));
      expect(quota.status?.summary).toMatchObject({ sessions: '4/4', waiting: 46 });
      expect(quota.status?.reservations?.map((r) => r.session).sort()).toEqual(order.slice(0, 4).sort());
      expect(quota.status?.waiting?.map((w) => [w.session, w.position])).toEqual(order.slice(4).map((n, i) => [n, i + 1]));
      const waiting = await getSession(ns, order[10]!);
      expect(waiting.status?.phase).toBe('Pending');
      expect(quotaReason(waiting)?.message).toMatch(/The proposal runs 4 of 4 sessions allowed at once \(sessions in spec\.hard of quota policy\)\. The session starts in creation order when room frees up\.$/);
      await deleteSession(ns, order[1]!);
      const next = await waitFor(`${order[4]} admitted`, async () => (await getSession(ns, order[4]!)).status?.phase === 'Running', 60_000).then(() => getSession(ns, order[4]!));
      expect(quotaReason(next)).toMatchObject({ status: 'True', reason: 'Admitted' });
      expect(peaks.peakPods()).toBeLessThanOrEqual(4);
      expect(peaks.peakReserved()).toBeLessThanOrEqual(4);
      const records = (await custom().listNamespacedCustomObject({ group: 'panalysis.io', version: 'v1alpha1', plural: 'usagerecords', namespace: ns })) as { items: Array<{ spec: { session: string; endReason: string; user: string } }> };
      const deleted = names(50).indexOf(order[1]!);
      expect(records.items.map((r) => [r.spec.session, r.spec.endReason, r.spec.user])).toEqual([[order[1], 'Deleted', USERS[deleted % 3]]]);
    } finally {
      peaks.stop();
    }
  });

  it('costs no write on a resync once nothing changes: not the quota, not its running or waiting sessions', async () => {
    const ns = await freshNamespace('quota-idle', { 'panalysis.io/proposal': '20231234' });
    await createQuota(ns, 'policy', { hard: { sessions: 1, gpus: 1 }, budgets: { cpuHours: 1000 } });
    await createSession(ns, 'idle-a', { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy' });
    await waitFor('idle-a running', async () => (await getSession(ns, 'idle-a')).status?.phase === 'Running', 60_000);
    await createSession(ns, 'idle-b', { user: 'bob', type: 'jupyter', profile: 'jupyter-scipy' });
    await waitFor('idle-b waiting', async () => quotaReason(await getSession(ns, 'idle-b'))?.reason === 'SessionLimitReached', 60_000);
    await settled(operator);
    const before = (await getQuota(ns, 'policy')).metadata.resourceVersion;
    expect(await writesDuringPasses(operator, 3)).toBe(0);
    expect((await getQuota(ns, 'policy')).metadata.resourceVersion).toBe(before);
  });
});

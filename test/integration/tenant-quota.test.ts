// SPDX-License-Identifier: Apache-2.0
/**
 * The quota as the scientist next door sees it: a proposal member who wants more than the
 * quota gives, or wants the GPU-hours they used forgotten. Real apiserver, RBAC, the
 * installed user roles, impersonated test users, a running operator.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { attack } from './attacks.ts';
import { deleteFreshNamespaces } from './cleanup.ts';
import { custom, waitFor } from './helpers.ts';
import { startOperator } from './operator.ts';
import type { OperatorProcess } from './operator.ts';
import { createQuota, getQuota } from './quota.ts';
import { createSession, getSession, isPhase, waitSession } from './sessions.ts';
import { kubectlAs, kubectlCreate, proposalNamespace } from './tenants.ts';

const TIMEOUT = 180_000;
const QUOTAS = 'resourcequotas.panalysis.io';
const SESSIONS = 'analysissessions.panalysis.io';
let operator: OperatorProcess;
let ns: string;

beforeAll(async () => {
  operator = await startOperator();
  ns = await proposalNamespace('quota-attack', { alice: ['panalysis-portal', 'view', 'edit'], bob: ['panalysis-portal', 'view', 'edit'] });
  await createQuota(ns, 'policy', { hard: { sessions: 1 }, budgets: { gpuHours: 100 } });
  // alice runs the proposal's one session; bob's waits.
  await createSession(ns, 'alice-nb', { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy' }, 'alice');
  await waitSession(ns, 'alice-nb', 'Running', isPhase('Running'));
  await createSession(ns, 'bob-nb', { user: 'bob', type: 'jupyter', profile: 'jupyter-scipy' }, 'bob');
  await waitSession(ns, 'bob-nb', 'waiting for the quota', (s) => s.status?.conditions?.some((c) => c.type === 'QuotaAdmitted' && c.reason === 'SessionLimitReached') ?? false);
}, TIMEOUT);
afterAll(async () => {
  await deleteFreshNamespaces();
  await operator?.stop();
});

/** bob's session is still waiting and has no pod; alice's still runs; the ledger holds alice's run only. */
async function expectQuotaHeld(): Promise<void> {
  const bob = await getSession(ns, 'bob-nb');
  expect(bob.status?.phase).toBe('Pending');
  expect((await getSession(ns, 'alice-nb')).status?.phase).toBe('Running');
  const q = await getQuota(ns, 'policy');
  expect(q.spec.hard?.sessions).toBe(1);
  expect(q.status?.reservations?.map((r) => r.session)).toEqual(['alice-nb']);
}

describe('quota attacks by a proposal member (panalysis-portal, view and edit)', () => {
  attack('Q1', "bob raises the proposal's quota, deletes it, or creates a second quota of his own to get his waiting session admitted",
    'all refused by RBAC (members may only read quotas); the quota and its ledger unchanged, bob still waits',
    async () => {
      const raise = await kubectlAs('bob', ['patch', QUOTAS, 'policy', '-n', ns, '--type', 'merge', '-p', '{"spec":{"hard":{"sessions":10}}}']);
      const remove = await kubectlAs('bob', ['delete', QUOTAS, 'policy', '-n', ns, '--wait=false']);
      const own = await kubectlCreate('bob', ns, { apiVersion: 'panalysis.io/v1alpha1', kind: 'ResourceQuota', metadata: { name: 'bobs' }, spec: { hard: { sessions: 10 } } });
      for (const r of [raise, remove, own]) {
        expect(r.ok).toBe(false);
        expect(r.stderr).toMatch(/User "bob" cannot (patch|delete|create) resource "resourcequotas" in API group "panalysis.io"/);
      }
      await expectQuotaHeld();
      return 'patch, delete and create refused ("User "bob" cannot ... resourcequotas"); ledger holds alice-nb only, bob-nb Pending';
    }, TIMEOUT);

  attack('Q2', "bob writes a reservation for his session into the quota's status ledger",
    "refused by RBAC (no right on resourcequotas/status); bob's session still waits without a pod",
    async () => {
      const q = await getQuota(ns, 'policy');
      const bob = await getSession(ns, 'bob-nb');
      const forged = { ...q.status, reservations: [...(q.status?.reservations ?? []), { uid: bob.metadata.uid!, session: 'bob-nb', user: 'bob', run: 99, cpuMillis: 0, memoryBytes: 0, gpus: 0, admittedAt: '2026-01-01T00:00:00Z' }] };
      const r = await kubectlAs('bob', ['patch', QUOTAS, 'policy', '-n', ns, '--subresource=status', '--type', 'merge', '-p', JSON.stringify({ status: forged })]);
      expect(r.ok).toBe(false);
      expect(r.stderr).toMatch(/User "bob" cannot patch resource "resourcequotas\/status"/);
      await expectQuotaHeld();
      return 'refused ("cannot patch resource "resourcequotas/status""); ledger unchanged';
    }, TIMEOUT);

  attack('Q3', "bob marks alice's run as ended in her session's status (status.quota.doneRun), so that her reservation is released and his session admitted",
    "refused by RBAC (members cannot write session status); alice's run and reservation unchanged",
    async () => {
      const alice = await getSession(ns, 'alice-nb');
      const r = await kubectlAs('bob', ['patch', SESSIONS, 'alice-nb', '-n', ns, '--subresource=status', '--type', 'merge', '-p', JSON.stringify({ status: { quota: { ...alice.status?.quota, doneRun: alice.status?.quota?.run } } })]);
      expect(r.ok).toBe(false);
      expect(r.stderr).toMatch(/User "bob" cannot patch resource "analysissessions\/status"/);
      const after = await getSession(ns, 'alice-nb');
      expect(after.status?.quota).toEqual(alice.status?.quota);
      await expectQuotaHeld();
      return `refused ("cannot patch resource "analysissessions/status""); alice's status.quota still run ${after.status?.quota?.run} with no doneRun`;
    }, TIMEOUT);

  attack('Q4', "bob erases or shrinks the usage record of a finished GPU run, so that the proposal's budget forgets it",
    'delete refused by RBAC; an update refused too (records are immutable even for admins); the record unchanged',
    async () => {
      // A finished run: alice stops her session; its record is written before the reservation goes.
      await kubectlAs('alice', ['patch', SESSIONS, 'alice-nb', '-n', ns, '--type', 'merge', '-p', '{"spec":{"state":"Stopped"}}']);
      const records = async () => ((await custom().listNamespacedCustomObject({ group: 'panalysis.io', version: 'v1alpha1', plural: 'usagerecords', namespace: ns })) as { items: Array<{ metadata: { name: string }; spec: { gpuSeconds: number; session: string; end: string } }> }).items;
      await waitFor("alice's usage record", async () => (await records()).some((r) => r.spec.session === 'alice-nb'), 60_000);
      const record = (await records()).find((r) => r.spec.session === 'alice-nb')!;
      const erase = await kubectlAs('bob', ['delete', 'usagerecords.panalysis.io', record.metadata.name, '-n', ns]);
      expect(erase.ok).toBe(false);
      expect(erase.stderr).toMatch(/User "bob" cannot delete resource "usagerecords"/);
      const shrink = await kubectlAs('bob', ['patch', 'usagerecords.panalysis.io', record.metadata.name, '-n', ns, '--type', 'merge', '-p', '{"spec":{"end":"2026-01-01T00:00:00Z"}}']);
      expect(shrink.ok).toBe(false);
      const byAdmin = await kubectlAs('admin', ['patch', 'usagerecords.panalysis.io', record.metadata.name, '-n', ns, '--type', 'merge', '-p', '{"spec":{"end":"2026-01-01T00:00:00Z","cpuMilliSeconds":0}}']);
      expect(byAdmin.ok).toBe(false);
      expect(byAdmin.stderr).toMatch(/spec is immutable/);
      expect((await records()).find((r) => r.metadata.name === record.metadata.name)).toEqual(record);
      // The freed room goes to bob, as the queue says.
      await waitSession(ns, 'bob-nb', 'admitted', isPhase('Running'));
      return 'delete and patch by bob refused by RBAC, patch by an admin refused ("spec is immutable"); record unchanged; bob admitted when alice stopped';
    }, TIMEOUT);
});

// SPDX-License-Identifier: Apache-2.0
/**
 * The operator under failure, on the real local control plane: killed in the middle of
 * reconciles, two replicas with one leader, and a watch broken by etcd compaction.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { inject } from 'vitest';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { probe } from '../../src/cluster/wait.ts';
import { core, freshNamespace, kubeConfig, waitFor } from './helpers.ts';
import { operatorsPerTest, startOperator } from './operator.ts';
import { createSession, getSession, isPhase, patchSession, waitSession } from './sessions.ts';
import { startTcpProxy } from './tcp-proxy.ts';

operatorsPerTest();

/** Children of every session in `ns`, as `kind/name` (sorted), to compare convergence. */
async function children(ns: string): Promise<string[]> {
  const [pods, secrets, pvcs] = await Promise.all([
    core().listNamespacedPod({ namespace: ns }),
    core().listNamespacedSecret({ namespace: ns }), core().listNamespacedPersistentVolumeClaim({ namespace: ns }),
  ]);
  return [
    ...pods.items.map((o) => `Pod/${o.metadata!.name}`),
    ...secrets.items.map((o) => `Secret/${o.metadata!.name}`), ...pvcs.items.map((o) => `PVC/${o.metadata!.name}`),
  ].sort();
}

describe('operator resilience', () => {
  it('converges to the same objects after being killed in the middle of reconciles', async () => {
    const ns = await freshNamespace('kill');
    const first = await startOperator();
    const names = Array.from({ length: 12 }, (_, i) => `s${i}`);
    await Promise.all(names.map((n) => createSession(ns, n, { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy' })));
    await waitFor('some sessions to be partly reconciled', async () => (await first.writes()) >= 5, 30_000, '', 20);
    await first.stop('SIGKILL');
    const partial = await children(ns);
    expect(partial.length).toBeLessThan(names.length * 3);
    await startOperator();
    for (const n of names) await waitSession(ns, n, 'Running', isPhase('Running'));
    const want = names.flatMap((n) => [`Pod/${n}`, `Secret/${n}-credentials`, `PVC/${n}-home`]).sort();
    expect(await children(ns)).toEqual(want);
  });

  it('runs one leader among two replicas; the other takes over within the lease time when the leader is killed', async () => {
    const ns = await freshNamespace('lease');
    const a = await startOperator({ leaderElect: true, leaseNamespace: ns, id: 'replica-a' });
    const b = await startOperator({ leaderElect: true, leaseNamespace: ns, id: 'replica-b' });
    const leases = kubeConfig().makeApiClient(CoordinationV1Api);
    let holder = '';
    await waitFor('a leader', async () => {
      holder = (await leases.readNamespacedLease({ name: 'panalysis-operator', namespace: ns })).spec?.holderIdentity ?? '';
      return holder !== '';
    }, 30_000);
    const [leader, standby] = holder === 'replica-a' ? [a, b] : [b, a];
    expect(await leader.leading()).toBe(true);
    expect(await standby.leading()).toBe(false);
    await createSession(ns, 'before', { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy' });
    await waitSession(ns, 'before', 'Running', isPhase('Running'));
    expect(await standby.writes()).toBe(0);

    await leader.stop('SIGKILL');
    const held = (await leases.readNamespacedLease({ name: 'panalysis-operator', namespace: ns })).spec!;
    expect(held.holderIdentity, 'a killed leader cannot release its lease').toBe(holder);
    await waitFor('the standby to lead', () => standby.leading(), 30_000);
    const taken = (await leases.readNamespacedLease({ name: 'panalysis-operator', namespace: ns })).spec!;
    // The standby waited for the lease to run out after the last renewal, and not longer than a lease and a retry.
    expect(taken.leaseTransitions).toBe((held.leaseTransitions ?? 0) + 1);
    const gap = new Date(taken.acquireTime!).getTime() - new Date(held.renewTime!).getTime();
    expect(gap).toBeGreaterThanOrEqual(held.leaseDurationSeconds! * 1000);
    await createSession(ns, 'after', { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy' });
    await waitSession(ns, 'after', 'Running', isPhase('Running'));
    const lease = await leases.readNamespacedLease({ name: 'panalysis-operator', namespace: ns });
    expect(lease.spec?.holderIdentity).toBe(holder === 'replica-a' ? 'replica-b' : 'replica-a');
  }, 90_000);

  it('hands the lease over at once on a graceful stop', async () => {
    const ns = await freshNamespace('lease2');
    const a = await startOperator({ leaderElect: true, leaseNamespace: ns, id: 'replica-a' });
    await waitFor('a to lead', () => a.leading(), 30_000);
    const b = await startOperator({ leaderElect: true, leaseNamespace: ns, id: 'replica-b' });
    const leases = kubeConfig().makeApiClient(CoordinationV1Api);
    const held = (await leases.readNamespacedLease({ name: 'panalysis-operator', namespace: ns })).spec!;
    expect(held.holderIdentity).toBe('replica-a');
    expect(await a.stop('SIGTERM')).toBe(0);
    // Released on the way out: b need not wait for the lease to run out.
    const released = (await leases.readNamespacedLease({ name: 'panalysis-operator', namespace: ns })).spec!;
    expect(released.holderIdentity ?? '').not.toBe('replica-a');
    await waitFor('b to lead', () => b.leading(), 15_000);
    const taken = (await leases.readNamespacedLease({ name: 'panalysis-operator', namespace: ns })).spec!;
    expect(taken.holderIdentity).toBe('replica-b');
    expect(new Date(taken.acquireTime!).getTime() - new Date(held.renewTime!).getTime(), 'b took over before the old lease would have run out').toBeLessThan(held.leaseDurationSeconds! * 1000);
  }, 60_000);

  it('recovers a watch broken by etcd compaction (410 Gone) without losing the update', async () => {
    const ns = await freshNamespace('gone');
    const kubeconfigText = readFileSync(inject('kubeconfig'), 'utf8');
    const apiPort = Number(/server: https:\/\/127\.0\.0\.1:(\d+)/.exec(kubeconfigText)![1]);
    const proxy = await startTcpProxy(apiPort);
    onTestFinished(() => proxy.close());
    const proxied = join(inject('clusterDir'), 'proxied.kubeconfig');
    writeFileSync(proxied, kubeconfigText.replace(`127.0.0.1:${apiPort}`, `127.0.0.1:${proxy.port}`));
    const op = await startOperator({ kubeconfig: proxied });
    await createSession(ns, 'gone', { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy' });
    await waitSession(ns, 'gone', 'Running', isPhase('Running'));
    const oldPod = (await core().readNamespacedPod({ name: 'gone', namespace: ns })).metadata!.uid;

    proxy.partition();
    await patchSession(ns, 'gone', { resources: { cpu: 3 } });
    await compactEtcd(inject('etcdUrl'));
    await restartApiserver(apiPort); // a fresh watch cache starts after the compaction: old resourceVersions are gone
    proxy.heal();

    await waitFor('the pod to be replaced for the edit made during the partition', async () => {
      const p = await core().readNamespacedPod({ name: 'gone', namespace: ns }).catch(() => undefined);
      return p !== undefined && p.metadata!.uid !== oldPod && p.spec!.containers[0]!.resources!.requests!.cpu === '3';
    }, 90_000);
    const m = await op.metrics();
    const relists = Object.entries(m).filter(([k]) => k.startsWith('controller_runtime_reflector_relists_after_gone_total') && k.includes('AnalysisSession')).reduce((a, [, v]) => a + v, 0);
    expect(relists).toBeGreaterThan(0);
    // The status that records the edit is written after the pod it asks for: wait for it rather than read it once.
    await waitFor('the session to report the edit as observed', async () => (await getSession(ns, 'gone')).status?.observedGeneration === 2, 30_000);
  }, 150_000);
});

async function compactEtcd(etcdUrl: string): Promise<void> {
  const range = await fetch(`${etcdUrl}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('/').toString('base64') }) });
  const revision = Number(((await range.json()) as { header: { revision: string } }).header.revision);
  const res = await fetch(`${etcdUrl}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision, physical: true }) });
  if (!res.ok) throw new Error(`compaction failed: ${res.status} ${await res.text()}`);
}

/** Kills kube-apiserver; its supervisor restarts it. Resolves when it is ready again. */
async function restartApiserver(port: number): Promise<void> {
  const pid = Number(readFileSync(join(inject('clusterDir'), 'pids', 'kube-apiserver.pid'), 'utf8'));
  process.kill(pid, 'SIGKILL');
  await waitFor('kube-apiserver to stop', async () => (await probe(`https://127.0.0.1:${port}/livez`, { insecure: true }).catch(() => 0)) === 0, 10_000);
  const token = /token: (\S+)/.exec(readFileSync(inject('kubeconfig'), 'utf8'))![1];
  await waitFor('kube-apiserver to be ready again', async () => (await probe(`https://127.0.0.1:${port}/readyz`, { insecure: true, token })) === 200, 90_000);
}

// SPDX-License-Identifier: Apache-2.0
/**
 * Data access with the static directory on the real local control plane: DatasetMounts
 * become pre-bound static volumes, sessions mount them only for people who may read them
 * (read-write for writers until writableUntil), non-members are refused, and a member
 * removed from the proposal loses the running session after the grace period.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { V1Pod } from '@kubernetes/client-node';
import { datasetVolumeName } from '../../src/desired/dataset-volume.ts';
import { core, freshNamespace, waitFor } from './helpers.ts';
import { DEMO_CONFIG, startOperator } from './operator.ts';
import type { OperatorProcess } from './operator.ts';
import { createDataset, deleteDataset, patchDataset, readyIs, waitDataset } from './datasets.ts';
import { createSession, isPhase, readyReason, waitSession } from './sessions.ts';
import { deleteFreshNamespaces } from './cleanup.ts';
import { expectGone, isGone } from './gone.ts';

let ns: string;
let operator: OperatorProcess;
const configFile = join(mkdtempSync(join(tmpdir(), 'panalysis-data-')), 'operator.yaml');
const config = parse(readFileSync(DEMO_CONFIG, 'utf8')) as Record<string, any>;
const inAWhile = (ms: number) => new Date(Date.now() + ms).toISOString().replace(/\.\d+Z$/, 'Z');
let writableUntil = '';

beforeAll(async () => {
  config.proposals.revocationGracePeriod = '5s';
  writeFileSync(configFile, stringify(config));
  operator = await startOperator({ config: configFile });
  ns = await freshNamespace('data', { 'panalysis.io/proposal': '20231234', 'pod-security.kubernetes.io/enforce': 'restricted' });
  writableUntil = inAWhile(3600_000);
  await createDataset(ns, 'raw', { source: { nfs: { server: 'nfs01.facility.example', path: '/exp/p11/20231234/raw' } }, access: { readGroups: ['p20231234'] }, mountPath: '/data/raw' });
  await createDataset(ns, 'proc', { source: { hostPath: { path: '/gpfs/exfel/exp/p11/20231234/proc' } }, access: { readGroups: ['p20231234'], writeGroups: ['p20231234-writers'] }, mountPath: '/data/proc', readOnly: false, writableUntil });
});
afterAll(async () => {
  await deleteFreshNamespaces(); // while the operator runs: DatasetMount finalizers remove the volumes
  await operator?.stop();
});

const pod = (name: string) => core().readNamespacedPod({ name, namespace: ns });
const mountOf = (p: V1Pod, path: string) => p.spec!.containers[0]!.volumeMounts!.find((m) => m.mountPath === path);

describe('datasets and data access', () => {
  it('turns a DatasetMount into a retained, pre-bound static volume and claim', async () => {
    const raw = await waitDataset(ns, 'raw', 'Ready', readyIs('True'));
    expect(raw.status).toMatchObject({ source: 'nfs nfs01.facility.example:/exp/p11/20231234/raw', persistentVolume: datasetVolumeName(ns, 'raw'), claimName: 'dataset-raw' });
    const pv = await core().readPersistentVolume({ name: datasetVolumeName(ns, 'raw') });
    expect(pv.spec?.storageClassName ?? '').toBe('');
    expect(pv.spec).toMatchObject({ persistentVolumeReclaimPolicy: 'Retain', accessModes: ['ReadOnlyMany'], nfs: { server: 'nfs01.facility.example', path: '/exp/p11/20231234/raw', readOnly: true } });
    expect(pv.spec?.mountOptions).toEqual(['nfsvers=4.2', 'hard', 'nosuid', 'nodev', 'ro']);
    expect(pv.status?.phase).toBe('Bound');
    const pvc = await core().readNamespacedPersistentVolumeClaim({ name: 'dataset-raw', namespace: ns });
    expect(pvc.spec?.volumeName).toBe(datasetVolumeName(ns, 'raw'));
    await waitDataset(ns, 'proc', 'Ready and writable', (d) => readyIs('True')(d) && d.status?.conditions?.find((c) => c.type === 'Writable')?.status === 'True');
  });

  it('refuses a source outside the allowed roots and makes no volume', async () => {
    await createDataset(ns, 'sneaky', { source: { hostPath: { path: '/var/lib/kubelet/pods' } }, access: { readGroups: ['p20231234'] }, mountPath: '/data/sneaky' });
    const d = await waitDataset(ns, 'sneaky', 'refused', readyIs('False'));
    expect(d.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ reason: 'PathNotAllowed' });
    expect(d.status?.conditions?.find((c) => c.type === 'Ready')?.message).toMatch(/spec\.source\.hostPath\.path: \/var\/lib\/kubelet\/pods is not under an allowed root; allowed roots: \/gpfs\/exfel\/exp/);
    await expectGone(core().readPersistentVolume({ name: datasetVolumeName(ns, 'sneaky') }), 'the volume of sneaky');
  });

  it('gives a writer the right uid/gid/groups and the data read-write until writableUntil, then read-only', async () => {
    writableUntil = inAWhile(20_000); // the write window closes soon: the end of the beamtime plus grace
    await patchDataset(ns, 'proc', { writableUntil });
    await waitDataset(ns, 'proc', 'the new window', (d) => d.spec.writableUntil === writableUntil && d.status?.observedGeneration === d.metadata.generation);
    await createSession(ns, 'alice', { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy', datasets: [{ name: 'raw' }, { name: 'proc' }] });
    const s = await waitSession(ns, 'alice', 'Running', isPhase('Running'));
    expect(s.status?.conditions?.find((c) => c.type === 'DataMounted')?.message).toMatch(/raw at \/data\/raw \(read-only\); proc at \/data\/proc \(read-write until \d{4}-/);
    const p = await pod('alice');
    expect(p.spec?.securityContext).toMatchObject({ runAsUser: 20001, runAsGroup: 20001, supplementalGroups: [100, 30001, 30002] });
    expect(p.spec?.securityContext?.fsGroup).toBeUndefined();
    expect(mountOf(p, '/data/raw')?.readOnly).toBe(true);
    expect(mountOf(p, '/data/proc')?.readOnly ?? false).toBe(false);
    expect(p.spec?.volumes?.find((v) => v.name === 'data-proc')?.persistentVolumeClaim).toEqual({ claimName: 'dataset-proc' });

    let replaced: V1Pod | undefined;
    await waitFor('the pod to be replaced with /data/proc read-only', async () => {
      replaced = await pod('alice').catch(() => undefined);
      return replaced !== undefined && replaced.metadata!.uid !== p.metadata!.uid && mountOf(replaced, '/data/proc')?.readOnly === true;
    }, Math.max(0, Date.parse(writableUntil) - Date.now()) + 60_000);
    // Read-write until writableUntil: the read-only pod was made at or after it, never before.
    expect(new Date(replaced!.metadata!.creationTimestamp!).getTime()).toBeGreaterThanOrEqual(Date.parse(writableUntil));
    await waitSession(ns, 'alice', 'Running again', isPhase('Running'));
  });

  it('gives a reader the data read-only with only the groups it needs', async () => {
    await createSession(ns, 'bob', { user: 'bob', type: 'jupyter', profile: 'jupyter-scipy', datasets: [{ name: 'raw' }, { name: 'proc' }] });
    await waitSession(ns, 'bob', 'Running', isPhase('Running'));
    const p = await pod('bob');
    expect(p.spec?.securityContext?.supplementalGroups).toEqual([100, 30001]);
    expect(mountOf(p, '/data/proc')?.readOnly).toBe(true);
  });

  it('refuses a non-member with a reason, and mounts nothing', async () => {
    await createSession(ns, 'carol', { user: 'carol', type: 'jupyter', profile: 'jupyter-scipy', datasets: [{ name: 'raw' }] });
    const s = await waitSession(ns, 'carol', 'refused', (x) => readyReason(x) === 'NotProposalMember');
    expect(s.status?.message).toMatch(/spec\.user: carol is not a member of proposal 20231234/);
    await expectGone(pod('carol'), 'pod carol');
  });

  it('refuses a session that would need more than 16 groups', async () => {
    for (let i = 1; i <= 17; i++) {
      const g = `g${String(i).padStart(2, '0')}`;
      await createDataset(ns, `d${g}`, { source: { nfs: { server: 'nfs01.facility.example', path: `/exp/${g}` } }, access: { readGroups: [g] }, mountPath: `/data/${g}` });
    }
    for (let i = 1; i <= 17; i++) await waitDataset(ns, `dg${String(i).padStart(2, '0')}`, 'Ready', readyIs('True'));
    const datasets = Array.from({ length: 16 }, (_, i) => ({ name: `dg${String(i + 1).padStart(2, '0')}` }));
    await createSession(ns, 'dave', { user: 'dave', type: 'jupyter', profile: 'jupyter-scipy', datasets });
    const s = await waitSession(ns, 'dave', 'refused', (x) => readyReason(x) === 'TooManyGroups');
    expect(s.status?.message).toMatch(/17 supplementary groups .* more than the 16 that NFS \(AUTH_SYS\) carries/);
  });

  it('stops the running session of a member removed from the proposal after the grace period, keeping its state', async () => {
    await createSession(ns, 'bob-revoked', { user: 'bob', type: 'jupyter', profile: 'jupyter-scipy', datasets: [{ name: 'raw' }] });
    await waitSession(ns, 'bob-revoked', 'Running', isPhase('Running'));
    config.proposals.static[0].members = ['alice', 'dave'];
    writeFileSync(configFile, stringify(config));
    const warned = await waitSession(ns, 'bob-revoked', 'warned', (x) => /Access revoked/.test(x.status?.message ?? ''), 30_000);
    expect(warned.status?.phase).toBe('Running');
    await waitFor('bob\'s pod to be deleted', () => isGone(() => pod('bob-revoked')), 30_000);
    const s = await waitSession(ns, 'bob-revoked', 'stopped', (x) => readyReason(x) === 'NotProposalMember' || readyReason(x) === 'AccessRevoked');
    expect(s.status?.phase).not.toBe('Running');
    expect((await core().readNamespacedPersistentVolumeClaim({ name: 'bob-revoked-home', namespace: ns })).metadata?.name).toBe('bob-revoked-home');
    // The Event is written after the status that asked for it: wait for it rather than read once.
    let reasons: string[] = [];
    await waitFor('the AccessRevoked event', async () => {
      const events = await core().listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=bob-revoked' });
      reasons = events.items.map((e) => e.reason ?? '');
      return reasons.includes('AccessRevoked');
    }, 30_000).catch(() => undefined);
    expect(reasons).toEqual(expect.arrayContaining(['AccessRevoked']));
  });

  it('removes the volume object (never the data) when the DatasetMount is deleted', async () => {
    await createDataset(ns, 'doomed', { source: { nfs: { server: 'nfs01.facility.example', path: '/exp/doomed' } }, access: { readGroups: ['p20231234'] }, mountPath: '/data/doomed' });
    await waitDataset(ns, 'doomed', 'Ready', readyIs('True'));
    await core().readPersistentVolume({ name: datasetVolumeName(ns, 'doomed') });
    await deleteDataset(ns, 'doomed');
    await waitFor('the volume of doomed to be gone', () => isGone(() => core().readPersistentVolume({ name: datasetVolumeName(ns, 'doomed') })), 30_000);
  });
});

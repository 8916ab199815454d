// SPDX-License-Identifier: Apache-2.0
/**
 * Datasets per proposal on the real control plane: `{proposal}` roots keep one proposal's
 * DatasetMount out of another's directory, volume names never collide across namespaces,
 * the operator writes and deletes only volumes that carry a DatasetMount's UID, and a
 * configuration reload that removes a root takes the volume away once no session mounts it.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { parse, stringify } from 'yaml';
import { NetworkingV1Api } from '@kubernetes/client-node';
import type { V1PersistentVolume } from '@kubernetes/client-node';
import { SPECIAL_IPV4, SPECIAL_IPV6 } from '../../src/config/schema.ts';
import { datasetVolumeName } from '../../src/desired/dataset-volume.ts';
import { attack } from './attacks.ts';
import { createDataset, deleteDataset, getDataset, readyIs, waitDataset } from './datasets.ts';
import { core, freshNamespace, kubeConfig, waitFor } from './helpers.ts';
import { DEMO_CONFIG, startOperator } from './operator.ts';
import type { OperatorProcess } from './operator.ts';
import { createSession, isPhase, patchSession, waitSession } from './sessions.ts';

const configFile = join(mkdtempSync(join(tmpdir(), 'panalysis-tenant-data-')), 'operator.yaml');
const config = parse(readFileSync(DEMO_CONFIG, 'utf8')) as Record<string, any>;
let operator: OperatorProcess;
const made: string[] = [];
/** A fresh namespace of this file, deleted (while the operator runs, for the DatasetMount finalizers) at the end. */
const namespace = async (prefix: string, labels: Record<string, string>) => {
  const name = await freshNamespace(prefix, labels);
  made.push(name);
  return name;
};

const PROPOSAL = '20231234';
const access = { readGroups: [`p${PROPOSAL}`] };
const ready = (d: Awaited<ReturnType<typeof getDataset>>) => d.status?.conditions?.find((c) => c.type === 'Ready');
const is404 = (err: unknown) => (err as { code?: number }).code === 404;
/** Resolves true when `read` answers 404 (gone), false when the object exists; other errors are thrown. */
const gone = (read: () => Promise<unknown>) => read().then(() => false, (err: unknown) => {
  if (is404(err)) return true;
  throw err;
});
const pv = (name: string) => core().readPersistentVolume({ name });
const claim = (namespace: string, name: string) => core().readNamespacedPersistentVolumeClaim({ namespace, name });

function writeConfig(hostPath: string[]): void {
  config.datasets = { nfs: [{ server: 'nfs01.facility.example', paths: ['/exp/{proposal}'] }], hostPath, csi: [] };
  config.proposals.revocationGracePeriod = '1h'; // the session must outlive the root's removal in the last test
  writeFileSync(configFile, stringify(config));
}

beforeAll(async () => {
  writeConfig(['/gpfs/exfel/exp/{proposal}']);
  operator = await startOperator({ config: configFile });
});
afterAll(async () => {
  await Promise.all(made.map(async (name) => {
    await core().deleteNamespace({ name }).catch(() => undefined);
    await waitFor(`namespace ${name} to be deleted`, () => gone(() => core().readNamespace({ name })), 60_000).catch((err: Error) => console.error(`[cleanup] ${err.message}`));
  }));
  await operator?.stop();
});

/**
 * A PV as an admin (or another DatasetMount) would have made it under `name`, once the
 * control plane has marked it Available (so its resourceVersion changes only if someone writes it).
 */
async function createForeignVolume(name: string, ownerUid: string): Promise<V1PersistentVolume> {
  await core().createPersistentVolume({
    body: {
      metadata: { name, labels: { 'panalysis.io/dataset-uid': ownerUid } },
      spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadOnlyMany'], persistentVolumeReclaimPolicy: 'Retain', nfs: { server: 'other.example', path: '/other' } },
    },
  });
  let available: V1PersistentVolume | undefined;
  await waitFor(`PV ${name} to be Available`, async () => (available = await pv(name)).status?.phase === 'Available', 30_000);
  return available!;
}

/** Field managers that wrote `volume`: the operator's must not be among them. */
const writers = (volume: V1PersistentVolume) => (volume.metadata?.managedFields ?? []).map((f) => f.manager);

describe('datasets per proposal', () => {
  attack('D1', 'A proposal\'s DatasetMount points into another proposal\'s root', 'refused with PathNotAllowed naming its own root; no volume or claim is created; the other proposal\'s volume is untouched', async () => {
    const victimNs = await namespace('ds-victim', { 'panalysis.io/proposal': 'p9' });
    await createDataset(victimNs, 'raw', { source: { hostPath: { path: '/gpfs/exfel/exp/p9/raw' } }, access, mountPath: '/data/raw' });
    const victim = await waitDataset(victimNs, 'raw', 'Ready', readyIs('True'));
    const victimPv = await pv(victim.status!.persistentVolume!);

    const ns = await namespace('ds-attacker', { 'panalysis.io/proposal': 'p8' });
    await createDataset(ns, 'loot', { source: { hostPath: { path: '/gpfs/exfel/exp/p9/raw' } }, access, mountPath: '/data/loot' });
    const d = await waitDataset(ns, 'loot', 'refused', readyIs('False'));
    expect(ready(d)).toMatchObject({ reason: 'PathNotAllowed' });
    expect(ready(d)?.message).toMatch(/spec\.source\.hostPath\.path: \/gpfs\/exfel\/exp\/p9\/raw is not under an allowed root; allowed roots: \/gpfs\/exfel\/exp\/p8 \(for proposal p8\)/);
    expect(await gone(() => pv(datasetVolumeName(ns, 'loot')))).toBe(true);
    expect(await gone(() => claim(ns, 'dataset-loot'))).toBe(true);
    expect(d.status?.persistentVolume).toBeUndefined();

    const after = await pv(victimPv.metadata!.name!);
    expect(after.metadata).toMatchObject({ uid: victimPv.metadata!.uid, resourceVersion: victimPv.metadata!.resourceVersion });
    expect(after.spec?.claimRef).toMatchObject({ namespace: victimNs, name: 'dataset-raw' });
    return `Ready=False PathNotAllowed ("allowed roots: /gpfs/exfel/exp/p8 (for proposal p8)"); no PV or claim for it; the victim's PV ${after.metadata!.name} unchanged (same resourceVersion)`;
  });

  attack('D2', 'Two DatasetMounts whose volume names collided before (proposal-7/7-raw and proposal-7-7/raw)', 'each gets its own PV, bound to its own claim and labelled with its own UID', async () => {
    const ns1 = await namespace('ds-col', { 'panalysis.io/proposal': 'p7' });
    const ns2 = `${ns1}-7`;
    await core().createNamespace({ body: { metadata: { name: ns2, labels: { 'panalysis.io/proposal': 'p7' } } } });
    made.push(ns2);
    await createDataset(ns1, '7-raw', { source: { hostPath: { path: '/gpfs/exfel/exp/p7/a' } }, access, mountPath: '/data/a' });
    await createDataset(ns2, 'raw', { source: { hostPath: { path: '/gpfs/exfel/exp/p7/b' } }, access, mountPath: '/data/b' });
    const a = await waitDataset(ns1, '7-raw', 'Ready', readyIs('True'));
    const b = await waitDataset(ns2, 'raw', 'Ready', readyIs('True'));
    expect(a.status!.persistentVolume).not.toBe(b.status!.persistentVolume);
    for (const [d, ns, claimName, path] of [[a, ns1, 'dataset-7-raw', '/gpfs/exfel/exp/p7/a'], [b, ns2, 'dataset-raw', '/gpfs/exfel/exp/p7/b']] as const) {
      const volume = await pv(d.status!.persistentVolume!);
      expect(volume.metadata?.labels?.['panalysis.io/dataset-uid']).toBe(d.metadata.uid);
      expect(volume.spec?.hostPath?.path).toBe(path);
      expect(volume.spec?.claimRef).toMatchObject({ namespace: ns, name: claimName });
      expect(volume.status?.phase).toBe('Bound');
      expect((await claim(ns, claimName)).spec?.volumeName).toBe(volume.metadata!.name);
    }
    return `two PVs (${a.status!.persistentVolume}, ${b.status!.persistentVolume}), each Bound to its own claim and carrying its own UID`;
  });

  attack('D3', 'Delete of a refused DatasetMount whose volume name another volume holds', 'the DatasetMount goes; the other volume is not touched', async () => {
    const ns = await namespace('ds-refused', { 'panalysis.io/proposal': 'p6' });
    const name = datasetVolumeName(ns, 'sneaky');
    const foreign = await createForeignVolume(name, 'uid-of-another-datasetmount');
    await createDataset(ns, 'sneaky', { source: { hostPath: { path: '/var/lib/kubelet' } }, access, mountPath: '/data/sneaky' });
    await waitDataset(ns, 'sneaky', 'refused', (d) => ready(d)?.reason === 'PathNotAllowed');
    await deleteDataset(ns, 'sneaky');
    await waitFor('the DatasetMount to be gone', () => gone(() => getDataset(ns, 'sneaky')), 30_000);
    const after = await pv(name);
    expect(after.metadata).toMatchObject({ uid: foreign.metadata!.uid, resourceVersion: foreign.metadata!.resourceVersion });
    expect(after.metadata?.deletionTimestamp).toBeUndefined();
    expect(writers(after)).not.toContain('panalysis-dataset-controller');
    await core().deletePersistentVolume({ name });
    return `DatasetMount deleted (404); PV ${name} of the other owner unchanged (same uid and resourceVersion, not deleting)`;
  });

  attack('D4', 'An allowed DatasetMount whose volume name a foreign volume already holds, then deleted', 'VolumeConflict naming the volume; nothing applied over it; its deletion leaves the volume alone', async () => {
    const ns = await namespace('ds-conflict', { 'panalysis.io/proposal': 'p5' });
    const name = datasetVolumeName(ns, 'raw');
    const foreign = await createForeignVolume(name, 'uid-of-another-datasetmount');
    await createDataset(ns, 'raw', { source: { hostPath: { path: '/gpfs/exfel/exp/p5/raw' } }, access, mountPath: '/data/raw' });
    const d = await waitDataset(ns, 'raw', 'conflict', (x) => ready(x)?.reason === 'VolumeConflict');
    expect(ready(d)?.message).toContain(`PersistentVolume ${name} exists and does not belong to this DatasetMount`);
    expect(await gone(() => claim(ns, 'dataset-raw'))).toBe(true);
    await deleteDataset(ns, 'raw');
    await waitFor('the DatasetMount to be gone', () => gone(() => getDataset(ns, 'raw')), 30_000);
    const after = await pv(name);
    expect(after.metadata).toMatchObject({ uid: foreign.metadata!.uid, resourceVersion: foreign.metadata!.resourceVersion });
    expect(writers(after)).not.toContain('panalysis-dataset-controller');
    await core().deletePersistentVolume({ name });
    return `Ready=False VolumeConflict naming ${name}; no claim made; after the delete the foreign PV is unchanged`;
  });

  attack('D5', 'A configuration reload removes the root of a dataset a running session mounts', 'refused at once (not at the next resync); the volume stays while the session\'s pod mounts it, and is removed (claim and PV) once it stopped', async () => {
    const ns = await namespace('ds-reload', { 'panalysis.io/proposal': PROPOSAL });
    await createDataset(ns, 'proc', { source: { hostPath: { path: `/gpfs/exfel/exp/${PROPOSAL}/proc` } }, access, mountPath: '/data/proc' });
    const d = await waitDataset(ns, 'proc', 'Ready', readyIs('True'));
    const volume = d.status!.persistentVolume!;
    await createSession(ns, 'alice', { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy', datasets: [{ name: 'proc' }] });
    await waitSession(ns, 'alice', 'Running', isPhase('Running'));
    // The API server accepts the default egress exceptions (every special-purpose IPv4 and IPv6 range).
    const np = await kubeConfig().makeApiClient(NetworkingV1Api).readNamespacedNetworkPolicy({ name: 'panalysis-sessions', namespace: ns });
    const excepted = (np.spec?.egress ?? []).flatMap((r) => r.to ?? []).flatMap((t) => t.ipBlock?.except ?? []);
    expect(excepted).toEqual(expect.arrayContaining([...SPECIAL_IPV4, ...SPECIAL_IPV6]));

    writeConfig(['/gpfs/other']);
    const refused = await waitDataset(ns, 'proc', 'refused while mounted', (x) => ready(x)?.reason === 'PathNotAllowed');
    expect(ready(refused)?.message).toMatch(/removed once no session mounts it \(mounted by pods alice\)/);
    expect((await pv(volume)).metadata?.deletionTimestamp).toBeUndefined();
    expect((await claim(ns, 'dataset-proc')).metadata?.deletionTimestamp).toBeUndefined();

    await patchSession(ns, 'alice', { state: 'Stopped' });
    await waitFor('the volume and claim of proc to be gone', async () => (await gone(() => pv(volume))) && (await gone(() => claim(ns, 'dataset-proc'))), 60_000);
    const after = await waitDataset(ns, 'proc', 'no volume in the status', (x) => x.status?.persistentVolume === undefined);
    expect(ready(after)).toMatchObject({ status: 'False', reason: 'PathNotAllowed' });
    writeConfig(['/gpfs/exfel/exp/{proposal}']);
    return 'PathNotAllowed within the config poll, volume kept while pod alice mounted it, then claim and PV deleted (404)';
  });
});

// SPDX-License-Identifier: Apache-2.0
/** Datasets per proposal: `{proposal}` roots, collision-free volume names, ownership before any write or delete. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { V1PersistentVolume, V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import type { DatasetMount } from '../../api/v1alpha1/dataset-mount.ts';
import type { DatasetsConfig } from '../../config/schema.ts';
import { DATASET_UID_LABEL, datasetVolumeName } from '../../desired/dataset-volume.ts';
import { checkSource, expandRoots } from './check-source.ts';
import { decideDatasetMount, forbiddenStatus, IN_USE_RECHECK_MS } from './decide.ts';
import type { DatasetFacts } from './decide.ts';
import { podsMounting } from './index.ts';

const scoped: DatasetsConfig = {
  nfs: [{ server: 'nfs01.facility.example', paths: ['/exp/{proposal}', '/common/calibration'] }],
  hostPath: ['/gpfs/exfel/exp/{proposal}'],
  csi: [],
  nfsMountOptions: ['nfsvers=4.2', 'hard', 'nosuid', 'nodev'],
};
const NOW = Date.parse('2026-12-01T00:00:00Z');

function dm(source: DatasetMount['spec']['source'], meta: Partial<DatasetMount['metadata']> = {}): DatasetMount {
  return {
    apiVersion: 'panalysis.io/v1alpha1', kind: 'DatasetMount',
    metadata: { name: 'raw', namespace: 'proposal-7', uid: 'uid-raw', generation: 1, ...meta },
    spec: { source, access: { readGroups: ['p7'] }, mountPath: '/data/raw' },
  };
}
const hostRaw = (path = '/gpfs/exfel/exp/7/raw') => dm({ hostPath: { path } });
const ownVolume = (uid = 'uid-raw'): V1PersistentVolume => ({ metadata: { name: datasetVolumeName('proposal-7', 'raw'), uid: 'pv-uid', labels: { [DATASET_UID_LABEL]: uid } } });
const ownClaim = (uid = 'uid-raw'): V1PersistentVolumeClaim => ({ metadata: { name: 'dataset-raw', uid: 'pvc-uid', ownerReferences: [{ apiVersion: 'panalysis.io/v1alpha1', kind: 'DatasetMount', name: 'raw', uid, controller: true }] } });
const ready = (f: DatasetFacts, d = hostRaw()) => decideDatasetMount(d, f, scoped, NOW).status.conditions?.find((c) => c.type === 'Ready');

describe('expandRoots', () => {
  const cases: Record<string, [string[], string | undefined, string[]]> = {
    'fixed roots stay': [['/exp', '/gpfs'], '7', ['/exp', '/gpfs']],
    'the placeholder becomes the proposal': [['/exp/{proposal}/raw', '/p{proposal}'], '20231234', ['/exp/20231234/raw', '/p20231234']],
    'no proposal: placeholder roots allow nothing': [['/exp/{proposal}', '/common'], undefined, ['/common']],
    'an empty proposal label allows nothing (never the parent)': [['/exp/{proposal}'], '', []],
  };
  it.each(Object.entries(cases))('%s', (_n, [roots, proposal, want]) => expect(expandRoots(roots, proposal)).toEqual(want));
});

describe('checkSource with {proposal} roots', () => {
  const cases: Record<string, [DatasetMount['spec']['source'], string | undefined, string | undefined, RegExp?]> = {
    'own proposal, hostPath': [{ hostPath: { path: '/gpfs/exfel/exp/7/raw' } }, '7', undefined],
    'own proposal, nfs': [{ nfs: { server: 'nfs01.facility.example', path: '/exp/7' } }, '7', undefined],
    'a fixed root is shared by all': [{ nfs: { server: 'nfs01.facility.example', path: '/common/calibration/2026' } }, '7', undefined],
    'another proposal\'s directory': [{ hostPath: { path: '/gpfs/exfel/exp/8/raw' } }, '7', 'PathNotAllowed', /hostPath\.path: \/gpfs\/exfel\/exp\/8\/raw is not under an allowed root; allowed roots: \/gpfs\/exfel\/exp\/7 \(for proposal 7\)/],
    'a proposal id that is a prefix of another': [{ hostPath: { path: '/gpfs/exfel/exp/77/raw' } }, '7', 'PathNotAllowed'],
    'the parent of all proposals': [{ nfs: { server: 'nfs01.facility.example', path: '/exp' } }, '7', 'PathNotAllowed'],
    'a namespace without proposal label': [{ hostPath: { path: '/gpfs/exfel/exp/7/raw' } }, undefined, 'PathNotAllowed', /\(none configured\) \(roots with \{proposal\} apply only in a namespace labelled panalysis\.io\/proposal\)/],
  };
  it.each(Object.entries(cases))('%s', (_n, [source, proposal, reason, message]) => {
    const r = checkSource(dm(source), scoped, proposal);
    expect(r?.reason).toBe(reason);
    if (message) expect(r?.message).toMatch(message);
  });
});

describe('datasetVolumeName', () => {
  it('gives distinct names where the readable part collides', () => {
    expect(datasetVolumeName('proposal-7', '7-raw')).not.toBe(datasetVolumeName('proposal-7-7', 'raw'));
    expect(datasetVolumeName('proposal-7', '7-raw')).toMatch(/^panalysis-proposal-7-7-raw-[0-9a-f]{16}$/);
  });

  const dnsLabel = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/);
  const subdomain = fc.stringMatching(/^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/).filter((s) => !/\.\.|\.-|-\./.test(s));
  it('is a DNS label of at most 63 characters, different for different DatasetMounts', () => {
    fc.assert(fc.property(dnsLabel, subdomain, dnsLabel, subdomain, (ns1, n1, ns2, n2) => {
      const a = datasetVolumeName(ns1, n1);
      expect(a).toMatch(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/);
      if (ns1 !== ns2 || n1 !== n2) expect(a).not.toBe(datasetVolumeName(ns2, n2));
      expect(datasetVolumeName(ns1, n1)).toBe(a);
    }));
  });
});

describe('decideDatasetMount: ownership', () => {
  it('touches nothing when a PV of someone else holds the name', () => {
    const plan = decideDatasetMount(hostRaw(), { proposal: '7', volume: ownVolume('uid-other') }, scoped, NOW);
    expect(plan.apply).toEqual([]);
    expect(plan.delete).toEqual([]);
    expect(ready({ proposal: '7', volume: ownVolume('uid-other') })).toMatchObject({ status: 'False', reason: 'VolumeConflict' });
    expect(ready({ proposal: '7', volume: ownVolume('uid-other') })?.message).toMatch(/PersistentVolume panalysis-proposal-7-raw-[0-9a-f]{16} exists and does not belong to this DatasetMount/);
  });

  it('touches nothing when a claim of someone else holds the claim name', () => {
    const foreign: V1PersistentVolumeClaim = { metadata: { name: 'dataset-raw', ownerReferences: [{ apiVersion: 'panalysis.io/v1alpha1', kind: 'AnalysisSession', name: 'dataset', uid: 'x', controller: true }] } };
    const plan = decideDatasetMount(hostRaw(), { proposal: '7', claim: foreign }, scoped, NOW);
    expect(plan.apply).toEqual([]);
    expect(ready({ proposal: '7', claim: foreign })).toMatchObject({ reason: 'ClaimConflict' });
  });

  it('keeps a volume of the earlier naming scheme bound to its own claim, and labels it', () => {
    const legacyClaim: V1PersistentVolumeClaim = { ...ownClaim(), spec: { volumeName: 'panalysis-proposal-7-raw' } };
    const legacyVolume: V1PersistentVolume = { metadata: { name: 'panalysis-proposal-7-raw', uid: 'old-pv' }, spec: { claimRef: { name: 'dataset-raw', namespace: 'proposal-7', uid: 'pvc-uid' } } };
    const plan = decideDatasetMount(hostRaw(), { proposal: '7', volume: legacyVolume, claim: legacyClaim }, scoped, NOW);
    const [pv, pvc] = plan.apply as any[];
    expect(pv.metadata).toMatchObject({ name: 'panalysis-proposal-7-raw', labels: { [DATASET_UID_LABEL]: 'uid-raw' } });
    expect(pvc.spec.volumeName).toBe('panalysis-proposal-7-raw');
    // The same volume bound to a claim of someone else is not ours.
    const foreignBinding = { ...legacyVolume, spec: { claimRef: { name: 'dataset-raw', namespace: 'proposal-7', uid: 'someone-elses-claim' } } };
    expect(ready({ proposal: '7', volume: foreignBinding, claim: legacyClaim })).toMatchObject({ reason: 'VolumeConflict' });
  });

  it('applies its own volume and claim again', () => {
    const plan = decideDatasetMount(hostRaw(), { proposal: '7', volume: ownVolume(), claim: ownClaim() }, scoped, NOW);
    expect(plan.apply.map((o) => o.kind)).toEqual(['PersistentVolume', 'PersistentVolumeClaim']);
  });
});

describe('decideDatasetMount: refused sources', () => {
  const other = hostRaw('/gpfs/exfel/exp/8/raw');

  it('creates and deletes nothing for a refused source, even over a foreign PV of the same name', () => {
    const plan = decideDatasetMount(other, { proposal: '7', volume: ownVolume('uid-other'), usedBy: [] }, scoped, NOW);
    expect(plan).toMatchObject({ apply: [], delete: [] });
    expect(plan.status.persistentVolume).toBeUndefined();
  });

  it('keeps its own volume while a pod mounts it, and says so', () => {
    const plan = decideDatasetMount(other, { proposal: '7', volume: ownVolume(), claim: ownClaim(), usedBy: ['alice'] }, scoped, NOW);
    expect(plan).toMatchObject({ apply: [], delete: [], requeueAfterMs: IN_USE_RECHECK_MS });
    expect(plan.status.conditions?.find((c) => c.type === 'Ready')?.message).toMatch(/removed once no session mounts it \(mounted by pods alice\)/);
  });

  it('keeps its own volume when nobody knows who mounts it', () => {
    expect(decideDatasetMount(other, { proposal: '7', volume: ownVolume() }, scoped, NOW).delete).toEqual([]);
  });

  it('deletes its own claim and volume, exactly those objects, once unused', () => {
    const plan = decideDatasetMount(other, { proposal: '7', volume: ownVolume(), claim: ownClaim(), usedBy: [] }, scoped, NOW);
    expect(plan.delete).toEqual([
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: 'proposal-7', name: 'dataset-raw', uid: 'pvc-uid' },
      { apiVersion: 'v1', kind: 'PersistentVolume', name: datasetVolumeName('proposal-7', 'raw'), uid: 'pv-uid' },
    ]);
  });

  it('a root removed from the configuration: the same DatasetMount becomes refused', () => {
    const before = decideDatasetMount(hostRaw(), { proposal: '7' }, scoped, NOW);
    expect(before.apply).toHaveLength(2);
    const after = decideDatasetMount(hostRaw(), { proposal: '7', volume: ownVolume(), claim: ownClaim(), usedBy: [] }, { ...scoped, hostPath: [] }, NOW);
    expect(after.delete.map((d) => d.kind)).toEqual(['PersistentVolumeClaim', 'PersistentVolume']);
  });
});

describe('podsMounting', () => {
  const pod = (name: string, claim: string, phase = 'Running'): V1Pod => ({ metadata: { name }, spec: { containers: [], volumes: [{ name: 'd', persistentVolumeClaim: { claimName: claim } }] }, status: { phase } });
  it('lists the unfinished pods that mount the claim', () => {
    expect(podsMounting([pod('b', 'dataset-raw'), pod('a', 'dataset-raw', 'Pending'), pod('c', 'dataset-raw', 'Succeeded'), pod('d', 'other')], 'dataset-raw')).toEqual(['a', 'b']);
  });
});

describe('forbiddenStatus', () => {
  it('says the write was refused and names the RoleBinding that allows it', () => {
    const base = decideDatasetMount(hostRaw(), { proposal: '7' }, scoped, NOW).status;
    const ready = forbiddenStatus(hostRaw(), base, 'persistentvolumeclaims is forbidden: User "system:serviceaccount:panalysis-system:panalysis-operator" cannot create', NOW).conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'Forbidden' });
    expect(ready?.message).toMatch(/persistentvolumeclaims is forbidden: .*bind the ClusterRole panalysis-operator-namespaced to the operator's ServiceAccount/);
  });
});

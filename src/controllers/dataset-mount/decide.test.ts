// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import type { DatasetMount } from '../../api/v1alpha1/dataset-mount.ts';
import type { DatasetsConfig } from '../../config/schema.ts';
import { DATASET_UID_LABEL, datasetVolumeName } from '../../desired/dataset-volume.ts';
import { checkSource, isUnder } from './check-source.ts';
import { decideDatasetMount } from './decide.ts';

const allowed: DatasetsConfig = {
  nfs: [{ server: 'nfs01.facility.example', paths: ['/exp', '/scratch/'] }],
  hostPath: ['/gpfs/exfel/exp'],
  csi: [{ driver: 'spectrumscale.csi.ibm.com', volumeHandles: ['0;2;1738;9A0B:5F2C;exp-{proposal};/gpfs/fs1/exp/{proposal}', '0;2;1738;9A0B:5F2D;calib;/gpfs/fs1/calib'], volumeAttributes: { volBackendFs: 'fs1' } }],
  nfsMountOptions: ['nfsvers=4.2', 'hard', 'nosuid', 'nodev'],
};
const NOW = Date.parse('2026-12-01T00:00:00Z');

function dm(spec: Partial<DatasetMount['spec']> = {}): DatasetMount {
  return {
    apiVersion: 'panalysis.io/v1alpha1', kind: 'DatasetMount',
    metadata: { name: 'raw', namespace: 'p1', uid: 'u1', generation: 1 },
    spec: { source: { nfs: { server: 'nfs01.facility.example', path: '/exp/p1/raw' } }, access: { readGroups: ['p1'] }, mountPath: '/data/raw', ...spec },
  };
}

describe('isUnder', () => {
  it.each([
    ['/exp/p1', '/exp', true], ['/exp', '/exp', true], ['/exp', '/exp/', true], ['/expanded', '/exp', false], ['/etc', '/exp', false], ['/anything', '/', true],
  ] as const)('%s under %s: %s', (path, root, want) => expect(isUnder(path, root)).toBe(want));
});

describe('checkSource', () => {
  const cases: Record<string, [DatasetMount['spec']['source'], string | undefined, RegExp?]> = {
    'an allowed export': [{ nfs: { server: 'nfs01.facility.example', path: '/exp/p1' } }, undefined],
    'another server': [{ nfs: { server: 'evil.example', path: '/exp/p1' } }, 'ServerNotAllowed', /spec\.source\.nfs\.server: evil\.example .*allowed: nfs01\.facility\.example/],
    'a path outside the exports': [{ nfs: { server: 'nfs01.facility.example', path: '/home/alice' } }, 'PathNotAllowed', /spec\.source\.nfs\.path: \/home\/alice .*allowed roots: \/exp, \/scratch\//],
    'a prefix that is not a directory boundary': [{ nfs: { server: 'nfs01.facility.example', path: '/exp2/p1' } }, 'PathNotAllowed'],
    'a GPFS path under the root': [{ hostPath: { path: '/gpfs/exfel/exp/p1/proc' } }, undefined],
    'a host path outside the roots': [{ hostPath: { path: '/var/lib/kubelet' } }, 'PathNotAllowed', /spec\.source\.hostPath\.path: \/var\/lib\/kubelet is not under an allowed root; allowed roots: \/gpfs\/exfel\/exp/],
    'a CSI driver not allowed': [{ csi: { driver: 'hostpath.csi.k8s.io', volumeHandle: 'x' } }, 'DriverNotAllowed', /allowed: spectrumscale\.csi\.ibm\.com/],
    'an existing claim': [{ pvc: { claimName: 'x' } }, undefined],
    'the proposal\'s own fileset': [{ csi: { driver: 'spectrumscale.csi.ibm.com', volumeHandle: '0;2;1738;9A0B:5F2C;exp-p1;/gpfs/fs1/exp/p1' } }, undefined],
    'a fileset shared by every proposal': [{ csi: { driver: 'spectrumscale.csi.ibm.com', volumeHandle: '0;2;1738;9A0B:5F2D;calib;/gpfs/fs1/calib', volumeAttributes: { volBackendFs: 'fs1' } } }, undefined],
    'another proposal\'s fileset': [{ csi: { driver: 'spectrumscale.csi.ibm.com', volumeHandle: '0;2;1738;9A0B:5F2C;exp-p2;/gpfs/fs1/exp/p2' } }, 'VolumeHandleNotAllowed', /spec\.source\.csi\.volumeHandle: "0;2;1738;9A0B:5F2C;exp-p2;\/gpfs\/fs1\/exp\/p2" .*allowed: 0;2;1738;9A0B:5F2C;exp-p1;\/gpfs\/fs1\/exp\/p1, 0;2;1738;9A0B:5F2D;calib;\/gpfs\/fs1\/calib \(for proposal p1\)/],
    'a handle that only starts like an allowed one': [{ csi: { driver: 'spectrumscale.csi.ibm.com', volumeHandle: '0;2;1738;9A0B:5F2C;exp-p1;/gpfs/fs1/exp/p1/../p2' } }, 'VolumeHandleNotAllowed'],
    'an attribute that redirects the volume': [{ csi: { driver: 'spectrumscale.csi.ibm.com', volumeHandle: '0;2;1738;9A0B:5F2C;exp-p1;/gpfs/fs1/exp/p1', volumeAttributes: { volDirBasePath: '/gpfs/fs1/exp/p2' } } }, 'VolumeAttributeNotAllowed', /spec\.source\.csi\.volumeAttributes\.volDirBasePath: .*allowed attributes: volBackendFs=fs1/],
    'an allowed attribute with another value': [{ csi: { driver: 'spectrumscale.csi.ibm.com', volumeHandle: '0;2;1738;9A0B:5F2C;exp-p1;/gpfs/fs1/exp/p1', volumeAttributes: { volBackendFs: 'fs2' } } }, 'VolumeAttributeNotAllowed'],
  };
  it.each(Object.entries(cases))('%s', (_name, [source, reason, message]) => {
    const r = checkSource(dm({ source }), allowed, 'p1');
    expect(r?.reason).toBe(reason);
    if (message) expect(r?.message).toMatch(message);
  });
});

describe('decideDatasetMount', () => {
  it('makes a read-only, retained, pre-bound NFS volume and its claim', () => {
    const plan = decideDatasetMount(dm(), {}, allowed, NOW);
    const [pv, pvc] = plan.apply as any[];
    expect(pv.kind).toBe('PersistentVolume');
    expect(pv.metadata.name).toBe(datasetVolumeName('p1', 'raw'));
    expect(pv.metadata.labels).toMatchObject({ 'panalysis.io/dataset': 'raw', 'panalysis.io/dataset-namespace': 'p1', [DATASET_UID_LABEL]: 'u1' });
    expect(pv.spec).toMatchObject({
      persistentVolumeReclaimPolicy: 'Retain', accessModes: ['ReadOnlyMany'],
      mountOptions: ['nfsvers=4.2', 'hard', 'nosuid', 'nodev', 'ro'], nfs: { server: 'nfs01.facility.example', path: '/exp/p1/raw', readOnly: true },
      claimRef: { namespace: 'p1', name: 'dataset-raw' },
    });
    expect(pvc.spec).toMatchObject({ volumeName: datasetVolumeName('p1', 'raw'), storageClassName: '', accessModes: ['ReadOnlyMany'] });
    expect(pvc.metadata.ownerReferences[0]).toMatchObject({ kind: 'DatasetMount', name: 'raw' });
    expect(plan.status).toMatchObject({ source: 'nfs nfs01.facility.example:/exp/p1/raw', persistentVolume: datasetVolumeName('p1', 'raw'), claimName: 'dataset-raw' });
    expect(plan.status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ClaimCreating' });
  });

  it('is Ready once the claim is bound, and writable until writableUntil', () => {
    const writable = dm({ readOnly: false, access: { readGroups: ['p1'], writeGroups: ['p1-w'] }, writableUntil: '2026-12-02T00:00:00Z' });
    const plan = decideDatasetMount(writable, { claim: { metadata: { ownerReferences: [{ apiVersion: 'panalysis.io/v1alpha1', kind: 'DatasetMount', name: 'raw', uid: 'u1', controller: true }] }, status: { phase: 'Bound' }, spec: { volumeName: datasetVolumeName('p1', 'raw') } } }, allowed, NOW);
    expect((plan.apply[0] as any).spec.mountOptions).not.toContain('ro');
    expect(plan.status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(plan.status.conditions?.find((c) => c.type === 'Writable')).toMatchObject({ status: 'True' });
    expect(plan.requeueAfterMs).toBe(86_400_000);
    const later = decideDatasetMount(writable, {}, allowed, Date.parse('2026-12-03T00:00:00Z'));
    expect(later.status.conditions?.find((c) => c.type === 'Writable')).toMatchObject({ status: 'False', reason: 'WriteWindowClosed' });
  });

  it('creates nothing for a source outside the allowed roots', () => {
    const plan = decideDatasetMount(dm({ source: { hostPath: { path: '/etc' } } }), {}, allowed, NOW);
    expect(plan.apply).toEqual([]);
    expect(plan.status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PathNotAllowed' });
  });

  it('uses an existing claim as it is for a pvc source', () => {
    const plan = decideDatasetMount(dm({ source: { pvc: { claimName: 'beamline-data' } } }), { claim: { status: { phase: 'Bound' }, spec: { volumeName: 'v' } } }, allowed, NOW);
    expect(plan.apply).toEqual([]);
    expect(plan.status.claimName).toBe('beamline-data');
    expect(plan.status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  it('never throws on a broken stored object', () => {
    const broken = { ...dm(), spec: { source: null } } as unknown as DatasetMount;
    expect(decideDatasetMount(broken, {}, allowed, NOW).status.conditions?.[0]?.reason).toBe('InvalidSpec');
  });
});

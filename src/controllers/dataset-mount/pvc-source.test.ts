// SPDX-License-Identifier: Apache-2.0
/** A pvc source never hands a session's home or another DatasetMount's claim to other users. */
import { describe, expect, it } from 'vitest';
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import type { DatasetMount } from '../../api/v1alpha1/dataset-mount.ts';
import type { DatasetsConfig } from '../../config/schema.ts';
import { decideDatasetMount } from './decide.ts';
import { checkPvcSource } from './pvc-source.ts';

const allowed: DatasetsConfig = { nfs: [], hostPath: [], csi: [], nfsMountOptions: [] };
const NOW = Date.parse('2026-12-01T00:00:00Z');
const dm = (claimName: string): DatasetMount => ({
  apiVersion: 'panalysis.io/v1alpha1', kind: 'DatasetMount',
  metadata: { name: 'shared', namespace: 'proposal-7', uid: 'uid-shared', generation: 1 },
  spec: { source: { pvc: { claimName } }, access: { readGroups: ['p7'], writeGroups: ['p7'] }, readOnly: false, mountPath: '/data/shared' },
});
const claim = (name: string, meta: V1PersistentVolumeClaim['metadata'] = {}): V1PersistentVolumeClaim => ({ metadata: { name, uid: `uid-${name}`, ...meta }, status: { phase: 'Bound' } });
const controlledBy = (apiVersion: string, kind: string, name: string) => ({ ownerReferences: [{ apiVersion, kind, name, uid: `uid-${name}`, controller: true }] });

describe('checkPvcSource', () => {
  it("refuses a session's home claim, naming the claim and its session", () => {
    expect(checkPvcSource(dm('nb-home'), claim('nb-home', controlledBy('panalysis.io/v1alpha1', 'AnalysisSession', 'nb')))).toEqual({
      reason: 'ClaimNotAllowed',
      message: 'spec.source.pvc.claimName: PersistentVolumeClaim nb-home is controlled by AnalysisSession nb; a pvc source must be a claim an admin made for it; name another claim',
    });
  });

  it("refuses another DatasetMount's claim, whose access rules it would bypass", () => {
    expect(checkPvcSource(dm('dataset-raw'), claim('dataset-raw', controlledBy('panalysis.io/v1alpha1', 'DatasetMount', 'raw')))?.message).toMatch(/controlled by DatasetMount raw/);
  });

  it('refuses an orphaned home claim by its session label', () => {
    expect(checkPvcSource(dm('nb-home'), claim('nb-home', { labels: { 'panalysis.io/session': 'nb' } }))?.message).toMatch(/carries the labels of session nb \(panalysis\.io\/session\)/);
  });

  it("allows an admin's claim, one of another controller, a missing claim and other sources", () => {
    expect(checkPvcSource(dm('scratch'), claim('scratch'))).toBeUndefined();
    expect(checkPvcSource(dm('restored'), claim('restored', controlledBy('snapshot.example/v1', 'Restore', 'r')))).toBeUndefined();
    expect(checkPvcSource(dm('later'), undefined)).toBeUndefined();
    const nfs = { ...dm('x'), spec: { ...dm('x').spec, source: { nfs: { server: 's', path: '/p' } } } };
    expect(checkPvcSource(nfs, claim('x', controlledBy('panalysis.io/v1alpha1', 'AnalysisSession', 'x')))).toBeUndefined();
  });
});

describe('decideDatasetMount with a pvc source', () => {
  it('a refused claim is neither written nor deleted, and Ready=False names it', () => {
    const plan = decideDatasetMount(dm('nb-home'), { claim: claim('nb-home', controlledBy('panalysis.io/v1alpha1', 'AnalysisSession', 'nb')) }, allowed, NOW);
    expect(plan.apply).toEqual([]);
    expect(plan.delete).toEqual([]);
    expect(plan.status.claimName).toBeUndefined();
    const ready = plan.status.conditions?.find((c) => c.type === 'Ready');
    expect([ready?.status, ready?.reason]).toEqual(['False', 'ClaimNotAllowed']);
  });

  it("an admin's claim is mounted as before", () => {
    const plan = decideDatasetMount(dm('scratch'), { claim: claim('scratch') }, allowed, NOW);
    expect(plan.status.claimName).toBe('scratch');
    expect(plan.status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });
});

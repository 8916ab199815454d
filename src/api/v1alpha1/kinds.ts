// SPDX-License-Identifier: Apache-2.0
/**
 * The three kinds as data: names, printer columns, schemas and root CEL rules. The CRD
 * generator and the runtime validators both read this table, so there is one source.
 */
import type { TSchema } from 'typebox';
import { AnalysisSessionSpec, AnalysisSessionStatus, analysisSessionRootRules } from './analysis-session.ts';
import { DatasetMountSpec, DatasetMountStatus, datasetMountRootRules } from './dataset-mount.ts';
import { ResourceQuotaSpec, ResourceQuotaStatus } from './resource-quota.ts';
import type { CelRule } from './schema-helpers.ts';

/** A printer column as `kubectl get` shows it. */
export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

/** Everything needed to render one CustomResourceDefinition. */
export interface KindDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  spec: TSchema;
  status: TSchema;
  rootRules: CelRule[];
  printerColumns: PrinterColumn[];
  description: string;
}

const readyColumn: PrinterColumn = { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' };
const ageColumn: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

export const ANALYSIS_SESSION: KindDefinition = {
  kind: 'AnalysisSession',
  plural: 'analysissessions',
  singular: 'analysissession',
  shortNames: ['asession', 'asess'],
  spec: AnalysisSessionSpec,
  status: AnalysisSessionStatus,
  rootRules: analysisSessionRootRules,
  description: 'An interactive analysis session (JupyterLab or a remote desktop) for one facility user.',
  printerColumns: [
    { name: 'User', type: 'string', jsonPath: '.spec.user' },
    { name: 'Type', type: 'string', jsonPath: '.spec.type' },
    { name: 'Profile', type: 'string', jsonPath: '.spec.profile', priority: 1 },
    { name: 'GPU', type: 'string', jsonPath: '.status.gpu' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'URL', type: 'string', jsonPath: '.status.url' },
    { name: 'Message', type: 'string', jsonPath: '.status.message', priority: 1 },
    ageColumn,
  ],
};

export const DATASET_MOUNT: KindDefinition = {
  kind: 'DatasetMount',
  plural: 'datasetmounts',
  singular: 'datasetmount',
  shortNames: ['dsm', 'dataset'],
  spec: DatasetMountSpec,
  status: DatasetMountStatus,
  rootRules: datasetMountRootRules,
  description: 'A storage location of a proposal (NFS, GPFS, PVC or CSI) with the groups that may read and write it.',
  printerColumns: [
    { name: 'Source', type: 'string', jsonPath: '.status.source' },
    { name: 'Mount', type: 'string', jsonPath: '.spec.mountPath' },
    { name: 'ReadOnly', type: 'boolean', jsonPath: '.spec.readOnly' },
    { name: 'Writable-Until', type: 'date', jsonPath: '.spec.writableUntil', priority: 1 },
    readyColumn,
    ageColumn,
  ],
};

export const RESOURCE_QUOTA: KindDefinition = {
  kind: 'ResourceQuota',
  plural: 'resourcequotas',
  singular: 'resourcequota',
  shortNames: ['pquota'],
  spec: ResourceQuotaSpec,
  status: ResourceQuotaStatus,
  rootRules: [],
  description: 'The analysis-session policy of one proposal namespace: concurrent limits, GPU/CPU-hour budgets, windows. Not core v1 ResourceQuota: use resourcequotas.panalysis.io or pquota with kubectl.',
  printerColumns: [
    { name: 'Window', type: 'string', jsonPath: '.status.window' },
    { name: 'Sessions', type: 'string', jsonPath: '.status.summary.sessions' },
    { name: 'GPU', type: 'string', jsonPath: '.status.summary.gpus' },
    { name: 'GPU-H', type: 'string', jsonPath: '.status.summary.gpuHours' },
    { name: 'On-Exceeded', type: 'string', jsonPath: '.spec.onExceeded', priority: 1 },
    ageColumn,
  ],
};

/** All kinds, in the order the CRDs are written. */
export const KINDS: readonly KindDefinition[] = [ANALYSIS_SESSION, DATASET_MOUNT, RESOURCE_QUOTA];

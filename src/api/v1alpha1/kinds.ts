// SPDX-License-Identifier: Apache-2.0
/**
 * The three kinds as data: names, printer columns, schemas and root CEL rules. The CRD
 * generator and the runtime validators both read this table, so there is one source.
 */
import type { TSchema } from 'typebox';
import { AnalysisSessionSpec, AnalysisSessionStatus, analysisSessionRootRules } from './analysis-session.ts';
import { DatasetMountSpec, DatasetMountStatus, datasetMountRootRules } from './dataset-mount.ts';
import { ResourceQuotaSpec, ResourceQuotaStatus, resourceQuotaRootRules } from './resource-quota.ts';
import { UsageRecordSpec, UsageRecordStatus, usageRecordRootRules } from './usage-record.ts';
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
  rootRules: resourceQuotaRootRules,
  description: 'The analysis-session policy of one proposal namespace: concurrent limits, GPU/CPU-hour budgets, windows. Not core v1 ResourceQuota: use resourcequotas.panalysis.io or pquota with kubectl.',
  printerColumns: [
    { name: 'Window', type: 'string', jsonPath: '.status.window' },
    { name: 'Sessions', type: 'string', jsonPath: '.status.summary.sessions' },
    { name: 'GPU', type: 'string', jsonPath: '.status.summary.gpus' },
    { name: 'GPU-H', type: 'string', jsonPath: '.status.summary.gpuHours' },
    { name: 'CPU-H', type: 'string', jsonPath: '.status.summary.cpuHours', priority: 1 },
    { name: 'Waiting', type: 'integer', jsonPath: '.status.summary.waiting' },
    { name: 'On-Exceeded', type: 'string', jsonPath: '.spec.onExceeded', priority: 1 },
    readyColumn,
    ageColumn,
  ],
};

export const USAGE_RECORD: KindDefinition = {
  kind: 'UsageRecord',
  plural: 'usagerecords',
  singular: 'usagerecord',
  shortNames: ['pusage'],
  spec: UsageRecordSpec,
  status: UsageRecordStatus,
  rootRules: usageRecordRootRules,
  description: 'One finished run of an analysis session (user, proposal, profile, GPUs, start, end, image digest): immutable accounting, written before the run\'s quota reservation is released.',
  printerColumns: [
    { name: 'Proposal', type: 'string', jsonPath: '.spec.proposal' },
    { name: 'User', type: 'string', jsonPath: '.spec.user' },
    { name: 'Session', type: 'string', jsonPath: '.spec.session' },
    { name: 'GPUs', type: 'integer', jsonPath: '.spec.gpus' },
    { name: 'Start', type: 'date', jsonPath: '.spec.start' },
    { name: 'End', type: 'string', jsonPath: '.spec.end' },
    { name: 'Reason', type: 'string', jsonPath: '.spec.endReason' },
    { name: 'Profile', type: 'string', jsonPath: '.spec.profile', priority: 1 },
    { name: 'Digest', type: 'string', jsonPath: '.spec.imageDigest', priority: 1 },
  ],
};

/** All kinds, in the order the CRDs are written. */
export const KINDS: readonly KindDefinition[] = [ANALYSIS_SESSION, DATASET_MOUNT, RESOURCE_QUOTA, USAGE_RECORD];

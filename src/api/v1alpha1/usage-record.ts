// SPDX-License-Identifier: Apache-2.0
/**
 * UsageRecord (usagerecords.panalysis.io, short name pusage): one finished run of one
 * session, written by the quota controller before the run's reservation is released.
 * Immutable; the facility's accounting and the source a quota's budget consumption is
 * rebuilt from.
 */
import Type from 'typebox';
import { DateTime, DNS_LABEL_PATTERN, StringEnum, USERNAME_PATTERN } from './schema-helpers.ts';
import type { CelRule } from './schema-helpers.ts';
import type { ObjectMeta } from './group.ts';

export const USAGE_END_REASONS = ['Stopped', 'Deleted', 'Expired', 'Refused', 'BudgetExhausted', 'Gone'] as const;

export const UsageRecordSpec = Type.Object(
  {
    proposal: Type.String({ description: 'Proposal the run was charged to.' }),
    quota: Type.String({ description: 'The ResourceQuota (panalysis.io) that admitted the run.' }),
    session: Type.String({ description: 'Name of the session.' }),
    sessionUID: Type.String({ description: 'UID of the session.' }),
    run: Type.Integer({ minimum: 1, description: 'Run number within the quota.' }),
    user: Type.String({ pattern: USERNAME_PATTERN }),
    profile: Type.Optional(Type.String({ pattern: DNS_LABEL_PATTERN, maxLength: 63 })),
    type: Type.Optional(Type.String()),
    gpus: Type.Integer({ minimum: 0 }),
    gpuFlavour: Type.Optional(Type.String()),
    cpuMillis: Type.Integer({ minimum: 0, description: 'CPU request in millicores.' }),
    memoryBytes: Type.Integer({ minimum: 0, description: 'Memory request in bytes.' }),
    start: DateTime('Admission: consumption counts from here.'),
    end: DateTime('Release: the pod was gone.'),
    gpuSeconds: Type.Integer({ minimum: 0, description: 'gpus × (end − start) in seconds.' }),
    cpuMilliSeconds: Type.Integer({ minimum: 0, description: 'cpuMillis × (end − start) in seconds.' }),
    endReason: StringEnum(USAGE_END_REASONS, { description: 'Why the run ended.' }),
    image: Type.Optional(Type.String()),
    imageDigest: Type.Optional(Type.String({ description: 'Image digest the run used, for reproducibility.' })),
  },
  { 'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'spec is immutable: a usage record is the accounting of a finished run' }] },
);
export type UsageRecordSpec = Type.Static<typeof UsageRecordSpec>;

export const UsageRecordStatus = Type.Object({});

export const usageRecordRootRules: CelRule[] = [];

export interface UsageRecord {
  apiVersion: string;
  kind: 'UsageRecord';
  metadata: ObjectMeta;
  spec: UsageRecordSpec;
}

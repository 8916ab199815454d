// SPDX-License-Identifier: Apache-2.0
/**
 * DatasetMount: one storage location of a proposal (NFS export, GPFS path, PVC or CSI
 * volume), who may read and write it, and where sessions see it.
 */
import Type from 'typebox';
import { AbsolutePath, Conditions, noDotSegments, DateTime, DNS_LABEL_PATTERN, GROUPNAME_PATTERN, NameSet, StringMap } from './schema-helpers.ts';
import type { ObjectMeta } from './group.ts';

export const DATASET_SOURCE_KINDS = ['nfs', 'hostPath', 'pvc', 'csi'] as const;
export type DatasetSourceKind = (typeof DATASET_SOURCE_KINDS)[number];

/** Directories a dataset may never cover inside a session's container. */
export const RESERVED_MOUNT_PATHS = ['/', '/bin', '/boot', '/dev', '/etc', '/lib', '/lib64', '/opt', '/proc', '/run', '/sbin', '/sys', '/tmp', '/usr', '/var', '/home'] as const;

const Source = Type.Object(
  {
    nfs: Type.Optional(
      Type.Object({
        server: Type.String({ description: 'NFS server host name or IP.', pattern: '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\\[?[0-9A-Fa-f:.]+\\]?$', maxLength: 253 }),
        path: AbsolutePath('spec.source.nfs.path', 'Exported path; must lie under a root the admin allowed.'),
      }),
    ),
    hostPath: Type.Optional(
      Type.Object(
        { path: AbsolutePath('spec.source.hostPath.path', 'Path of a file system mounted on every node (GPFS/Spectrum Scale, Lustre); must lie under an allowed root.') },
        { description: 'Only for file systems that the nodes already mount; sessions never get a hostPath volume, the operator makes a PersistentVolume.' },
      ),
    ),
    pvc: Type.Optional(Type.Object({ claimName: Type.String({ description: 'An existing PVC in this namespace.', pattern: DNS_LABEL_PATTERN, maxLength: 253 }) })),
    csi: Type.Optional(
      Type.Object({
        driver: Type.String({ description: 'CSI driver name; must be allowed by the admin.', pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', maxLength: 63 }),
        volumeHandle: Type.String({ minLength: 1, maxLength: 1024 }),
        volumeAttributes: Type.Optional(StringMap(Type.String({ maxLength: 1024 }), { maxProperties: 32 })),
      }),
    ),
  },
  {
    description: 'Exactly one of nfs, hostPath, pvc, csi.',
    'x-kubernetes-validations': [
      {
        rule: '[has(self.nfs), has(self.hostPath), has(self.pvc), has(self.csi)].filter(x, x).size() == 1',
        message: 'spec.source must set exactly one of nfs, hostPath, pvc or csi',
      },
      { rule: 'self == oldSelf', message: 'spec.source cannot change; create a new DatasetMount' },
    ],
  },
);

const Access = Type.Object(
  {
    readGroups: Type.Unsafe<string[]>({ ...NameSet(GROUPNAME_PATTERN, 32, 'Directory groups whose members may mount the data.'), minItems: 1 }),
    writeGroups: Type.Optional(NameSet(GROUPNAME_PATTERN, 32, 'Directory groups whose members may mount it read-write (until writableUntil).')),
  },
  { description: 'Who may read and who may write; checked against the directory for every session.' },
);

export const DatasetMountSpec = Type.Object(
  {
    source: Source,
    access: Access,
    mountPath: Type.Unsafe<string>({
      ...AbsolutePath('spec.mountPath', 'Where sessions see the data, e.g. /data/raw.'),
      'x-kubernetes-validations': [
        noDotSegments('spec.mountPath'),
        {
          rule: `![${RESERVED_MOUNT_PATHS.map((p) => `'${p}'`).join(', ')}].exists(p, self == p || (p != '/' && self.startsWith(p + '/')))`,
          message: 'spec.mountPath must not cover a system directory or /home; use a path such as /data/<name>',
        },
      ],
    }),
    readOnly: Type.Optional(Type.Boolean({ description: 'Mount read-only for everyone (default true).', default: true })),
    writableUntil: Type.Optional(DateTime('Write access ends here (end of beamtime plus grace); read-only afterwards.')),
    embargoUntil: Type.Optional(DateTime('Data stays restricted to the proposal until then.')),
    description: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  {
    'x-kubernetes-validations': [
      { rule: '!has(self.writableUntil) || (has(self.readOnly) && !self.readOnly)', message: 'spec.writableUntil needs spec.readOnly: false (a read-only dataset is never writable)', fieldPath: '.writableUntil' },
      {
        rule: '!has(self.readOnly) || self.readOnly || (has(self.access.writeGroups) && size(self.access.writeGroups) > 0)',
        message: 'spec.readOnly: false needs spec.access.writeGroups naming who may write',
        fieldPath: '.readOnly',
      },
    ],
  },
);
export type DatasetMountSpec = Type.Static<typeof DatasetMountSpec>;

export const DatasetMountStatus = Type.Object({
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  source: Type.Optional(Type.String({ description: 'The source in words, e.g. nfs data01:/exp/p1234.' })),
  persistentVolume: Type.Optional(Type.String({ description: 'The pre-bound PersistentVolume the operator made.' })),
  claimName: Type.Optional(Type.String({ description: 'The PVC sessions use.' })),
  conditions: Type.Optional(Conditions),
});
export type DatasetMountStatus = Type.Static<typeof DatasetMountStatus>;

export const datasetMountRootRules = [
  {
    rule: "self.metadata.name.size() <= 63 && self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",
    message: "metadata.name must be a DNS-1123 label of at most 63 characters (lowercase letters, digits and '-')",
  },
];

export interface DatasetMount {
  apiVersion: string;
  kind: 'DatasetMount';
  metadata: ObjectMeta;
  spec: DatasetMountSpec;
  status?: DatasetMountStatus;
}

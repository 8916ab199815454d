// SPDX-License-Identifier: Apache-2.0
/**
 * AnalysisSession: what a portal creates to give one scientist a JupyterLab or a
 * remote desktop next to the data of a proposal.
 */
import Type from 'typebox';
import { Conditions, DateTime, DNS_LABEL_PATTERN, Duration, GROUPNAME_PATTERN, NameSet, Quantity, StringEnum, USERNAME_PATTERN } from './schema-helpers.ts';
import type { ObjectMeta } from './group.ts';

export const SESSION_TYPES = ['jupyter', 'desktop'] as const;
export const DESKTOP_PROTOCOLS = ['vnc', 'guacamole'] as const;
export const SESSION_STATES = ['Running', 'Stopped'] as const;
export const SESSION_PHASES = ['Pending', 'Starting', 'Running', 'Stopping', 'Stopped', 'Failed', 'Expired', 'Deleting'] as const;
export type SessionType = (typeof SESSION_TYPES)[number];
export type DesktopProtocol = (typeof DESKTOP_PROTOCOLS)[number];
export type SessionPhase = (typeof SESSION_PHASES)[number];

/** Longest session name: it names the Pod, the Service and the Secret with suffixes. */
export const SESSION_NAME_MAX = 40;

const Gpu = Type.Object(
  {
    flavour: Type.String({ description: 'A GPU flavour from the operator configuration, e.g. a100 or a100-1g.10gb (MIG).', pattern: DNS_LABEL_PATTERN, maxLength: 63 }),
    count: Type.Integer({ description: 'Number of GPUs (or MIG slices) of that flavour.', minimum: 1, maximum: 16 }),
  },
  { description: 'GPUs by flavour; the operator maps the flavour to the resource name, node selector and tolerations.' },
);

const Resources = Type.Object(
  {
    cpu: Type.Optional(Quantity('CPU request, e.g. 2 or 500m; default from the profile, at most what policy allows.')),
    memory: Type.Optional(Quantity('Memory request and limit, e.g. 8Gi; default from the profile.')),
    gpu: Type.Optional(Gpu),
  },
  { description: 'Resources within the profile and quota limits.' },
);

const DatasetRef = Type.Object({
  name: Type.String({ description: 'Name of a DatasetMount in the same namespace.', pattern: DNS_LABEL_PATTERN, maxLength: 63 }),
  readOnly: Type.Optional(Type.Boolean({ description: 'Mount read-only even where the user may write.' })),
});

const Desktop = Type.Object(
  {
    protocol: StringEnum(DESKTOP_PROTOCOLS, { description: 'vnc: noVNC in the browser; guacamole: guacd in the pod and guacamole-common-js in the browser.', default: 'vnc' }),
    geometry: Type.Optional(Type.String({ description: 'Screen size, e.g. 1920x1080.', pattern: '^[1-9][0-9]{2,3}x[1-9][0-9]{2,3}$' })),
  },
  { description: 'Remote desktop settings; only for spec.type: desktop.' },
);

const SharedWith = Type.Object(
  {
    users: Type.Optional(NameSet(USERNAME_PATTERN, 32, 'Facility users (of the proposal) who may open the session too.')),
    groups: Type.Optional(NameSet(GROUPNAME_PATTERN, 16, 'Groups (of the proposal) whose members may open the session.')),
  },
  { description: 'Collaborators who may open the session in their browser.' },
);

const Template = Type.Object(
  {
    recipe: Type.Optional(Type.String({ description: 'A recipe of the admin catalogue (operator configuration `recipes`): its files are copied into home at the first start, never over a file already there, and JupyterLab opens its notebook.', pattern: DNS_LABEL_PATTERN, maxLength: 63 })),
    git: Type.Optional(Type.Object({
      url: Type.String({ description: 'Not served: a session names a catalogue recipe (spec.template.recipe); a URL here is refused with the known recipes.', pattern: '^https://[^\\s]+$', maxLength: 2048 }),
      ref: Type.Optional(Type.String({ description: 'Branch, tag or commit.', pattern: '^[A-Za-z0-9._/-]{1,255}$' })),
      path: Type.Optional(Type.String({ description: 'Notebook or folder to open, relative to the clone.', pattern: '^[^/][^\\0]*$', maxLength: 1024, 'x-kubernetes-validations': [{ rule: "!self.split('/').exists(s, s == '..')", message: "spec.template.git.path must stay inside the clone (no '..')" }] })),
    }, { description: 'Refused: sources outside the catalogue are not served (kept so that an old client gets the reason, not a silently pruned field).' })),
  },
  { description: 'A notebook recipe to pre-populate the session\'s home, from the admin catalogue.' },
);

export const AnalysisSessionSpec = Type.Object(
  {
    user: Type.String({
      description: 'Facility username the session runs as (its uid/gid come from the directory). Only trusted portals may set another user than themselves.',
      pattern: USERNAME_PATTERN,
      'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'spec.user cannot change; create a new session for another user' }],
    }),
    type: StringEnum(SESSION_TYPES, {
      description: 'jupyter (JupyterLab) or desktop (a remote desktop).',
      'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'spec.type cannot change; create a new session' }],
    }),
    profile: Type.String({ description: 'An admin-defined profile (image, default resources, allowed GPU flavours).', pattern: DNS_LABEL_PATTERN, maxLength: 63 }),
    desktop: Type.Optional(Desktop),
    resources: Type.Optional(Resources),
    datasets: Type.Optional(
      Type.Unsafe<Array<Type.Static<typeof DatasetRef>>>({
        type: 'array',
        description: 'DatasetMounts of this namespace to mount; mounted only if the user may read them.',
        maxItems: 16,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        items: DatasetRef,
      }),
    ),
    lifetime: Type.Optional(Duration('Maximum running time of each run, counted from the start of its pod, e.g. 8h; at most the profile\'s maxLifetime (lifecycle.maxLifetime, else defaults.maxLifetime) and the quota\'s maxSessionDuration, else refused.')),
    renewals: Type.Optional(Type.Integer({
      description: 'Renewals asked: each one added during a run adds the policy\'s renewal step (lifecycle.renewals.step) to its lifetime (a new run counts from the value it started with, status.renewalsAtStart). A portal renews with one patch (+1). Renewals beyond lifecycle.renewals.maxCount, or past its maxTotal or the quota\'s maxSessionDuration, are not applied, and the Renewed condition names the limit.',
      minimum: 0,
      maximum: 1000,
    })),
    idleTimeout: Type.Optional(Duration('Stop after this long without activity, e.g. 2h.')),
    state: Type.Optional(StringEnum(SESSION_STATES, { description: 'Stopped deletes the pod and keeps home and state; Running starts it again.', default: 'Running' })),
    sharedWith: Type.Optional(SharedWith),
    template: Type.Optional(Template),
  },
  {
    'x-kubernetes-validations': [
      { rule: "self.type == 'desktop' || !has(self.desktop)", message: 'spec.desktop is only for spec.type: desktop; remove it or set spec.type: desktop', fieldPath: '.desktop' },
    ],
  },
);
export type AnalysisSessionSpec = Type.Static<typeof AnalysisSessionSpec>;

const Identity = Type.Object({
  uid: Type.Integer({ minimum: 0 }),
  gid: Type.Integer({ minimum: 0 }),
  groups: Type.Optional(Type.Array(Type.Integer({ minimum: 0 }), { maxItems: 64 })),
  groupNames: Type.Optional(Type.Array(Type.String(), { maxItems: 64 })),
});

/** The session's standing in its proposal's quota, kept by the session controller. */
const SessionQuota = Type.Object({
  name: Type.Optional(Type.String({ description: 'The ResourceQuota (panalysis.io) that governs the session.' })),
  run: Type.Optional(Type.Integer({ minimum: 1, description: 'The admitted run the pod belongs to.' })),
  admittedAt: Type.Optional(DateTime('When the current run was admitted.')),
  doneRun: Type.Optional(Type.Integer({ minimum: 0, description: 'The last run that ended (its pod gone); a run at or below it is never used again.' })),
  endedAt: Type.Optional(DateTime('When run doneRun ended.')),
  stop: Type.Optional(Type.Object({
    reason: Type.String({ description: 'e.g. BudgetExhausted.' }),
    message: Type.String(),
    generation: Type.Integer({ minimum: 0, description: 'The spec generation it holds for: changing the spec (e.g. spec.state Stopped, then Running) asks the quota again.' }),
  }, { description: 'The quota stopped the session (budget policy): it stays stopped until its spec changes.' })),
}, { description: 'Quota admission of the session.' });

export const AnalysisSessionStatus = Type.Object({
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  phase: Type.Optional(StringEnum(SESSION_PHASES, { description: 'Derived from the conditions, for people and printer columns.' })),
  message: Type.Optional(Type.String({ description: 'What the session is waiting for, in words a portal can show.', maxLength: 4096 })),
  url: Type.Optional(Type.String({ description: 'Where the scientist opens the session (through the gateway).' })),
  identity: Type.Optional(Identity),
  node: Type.Optional(Type.String()),
  image: Type.Optional(Type.String({ description: 'Image the pod runs.' })),
  imageDigest: Type.Optional(Type.String({ description: 'Image digest the pod runs, for reproducibility.' })),
  gpu: Type.Optional(Type.String({ description: 'GPUs in words, e.g. 1x a100.' })),
  runStartedAt: Type.Optional(DateTime('When the current run began: its pod was first created. Recorded once per run (never from readiness), kept until spec.state: Stopped; the lifetime counts from it.')),
  renewalsAtStart: Type.Optional(Type.Integer({ minimum: 0, description: 'spec.renewals when the current run began: the run\'s renewals are spec.renewals minus this.' })),
  startedAt: Type.Optional(DateTime('When the pod of the current run first became ready.')),
  expiresAt: Type.Optional(DateTime('When the current run ends: the earliest of its lifetime (with renewals), the renewal limits and the end of the proposal\'s beamtime plus grace.')),
  endsBy: Type.Optional(StringEnum(['Lifetime', 'Beamtime'] as const, { description: 'What sets expiresAt: the lifetime (with renewals and their limits) or the end of the proposal\'s beamtime plus grace.' })),
  stoppedAt: Type.Optional(DateTime('When the session last stopped (stopped or expired, its pod gone); stopped sessions are deleted lifecycle.retention after it, when set.')),
  quota: Type.Optional(SessionQuota),
  conditions: Type.Optional(Conditions),
});
export type AnalysisSessionStatus = Type.Static<typeof AnalysisSessionStatus>;

/** Root-level rules (only metadata.name may be read there). */
export const analysisSessionRootRules = [
  {
    rule: `self.metadata.name.size() <= ${SESSION_NAME_MAX} && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')`,
    message: `metadata.name must be a DNS-1035 label of at most ${SESSION_NAME_MAX} characters (lowercase letters, digits and '-', starting with a letter): it names the session's pod and other objects and is part of its URL's host name`,
  },
  {
    rule: "!self.metadata.name.startsWith('dataset-')",
    message: "metadata.name must not start with 'dataset-': that prefix names the claims of DatasetMounts, which the session's home claim (<name>-home) would collide with; choose another name",
  },
];

export interface AnalysisSession {
  apiVersion: string;
  kind: 'AnalysisSession';
  metadata: ObjectMeta;
  spec: AnalysisSessionSpec;
  status?: AnalysisSessionStatus;
}

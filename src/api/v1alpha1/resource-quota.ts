// SPDX-License-Identifier: Apache-2.0
/**
 * ResourceQuota (resourcequotas.panalysis.io, short name pquota): the policy for the
 * analysis sessions of one proposal namespace. Not to be confused with core
 * v1 ResourceQuota, which stays a backstop.
 */
import Type from 'typebox';
import { Conditions, DateTime, DNS_LABEL_PATTERN, Duration, Quantity, StringEnum, StringMap } from './schema-helpers.ts';
import type { ObjectMeta } from './group.ts';

export const ON_EXCEEDED = ['Queue', 'Reject'] as const;
export type OnExceeded = (typeof ON_EXCEEDED)[number];

const NonNegativeQuantity = (description: string) => Quantity(description, { allowZero: true });

const Count = (description: string) => Type.Integer({ description, minimum: 0, maximum: 100000 });

export const QuotaLimits = Type.Object(
  {
    sessions: Type.Optional(Count('Running sessions in the proposal at once.')),
    sessionsPerUser: Type.Optional(Count('Running sessions per user at once.')),
    cpu: Type.Optional(NonNegativeQuantity('Sum of CPU requests of running sessions.')),
    memory: Type.Optional(NonNegativeQuantity('Sum of memory requests of running sessions.')),
    gpus: Type.Optional(Count('GPUs (of any flavour) in use at once.')),
    gpusPerFlavour: Type.Optional(StringMap(Type.Integer({ minimum: 0, maximum: 100000 }), { description: 'GPUs in use at once per flavour, e.g. {a100: 2}.', maxProperties: 32 })),
    maxSessionDuration: Type.Optional(Duration('Longest lifetime a session may have, e.g. 12h.')),
  },
  { description: 'Limits on what runs at the same time; an absent limit is unlimited, 0 forbids.' },
);
export type QuotaLimits = Type.Static<typeof QuotaLimits>;

export const QuotaBudgets = Type.Object(
  {
    gpuHours: Type.Optional(Type.Integer({ description: 'GPU-hours the proposal may use in all (never decays).', minimum: 0 })),
    cpuHours: Type.Optional(Type.Integer({ description: 'CPU-hours the proposal may use in all (never decays).', minimum: 0 })),
  },
  { description: 'Cumulative budgets.' },
);
export type QuotaBudgets = Type.Static<typeof QuotaBudgets>;

const Window = Type.Object(
  {
    name: Type.String({ pattern: DNS_LABEL_PATTERN, maxLength: 63, description: 'e.g. beamtime or post-beamtime.' }),
    start: DateTime('Start of the window.'),
    end: DateTime('End of the window (exclusive).'),
    hard: Type.Optional(QuotaLimits),
  },
  { 'x-kubernetes-validations': [{ rule: 'timestamp(self.end) > timestamp(self.start)', message: 'spec.windows[].end must be after spec.windows[].start', fieldPath: '.end' }] },
);

export const ResourceQuotaSpec = Type.Object(
  {
    proposal: Type.Optional(Type.String({ description: 'Proposal id; defaults to the namespace label panalysis.io/proposal.', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$' })),
    hard: Type.Optional(QuotaLimits),
    budgets: Type.Optional(QuotaBudgets),
    windows: Type.Optional(
      Type.Unsafe<Array<Type.Static<typeof Window>>>({
        type: 'array',
        description: 'Limits that replace spec.hard between two instants (the beamtime, the time after it).',
        maxItems: 8,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        items: Window,
        'x-kubernetes-validations': [
          {
            rule: 'self.all(a, self.all(b, a.name == b.name || timestamp(a.end) <= timestamp(b.start) || timestamp(b.end) <= timestamp(a.start)))',
            message: 'spec.windows must not overlap',
          },
        ],
      }),
    ),
    onExceeded: Type.Optional(StringEnum(ON_EXCEEDED, { description: 'Queue: the session waits with a reason; Reject: it is refused.', default: 'Queue' })),
  },
);
export type ResourceQuotaSpec = Type.Static<typeof ResourceQuotaSpec>;

const Reservation = Type.Object({
  session: Type.String(),
  uid: Type.String(),
  user: Type.String(),
  cpuMillis: Type.Integer({ minimum: 0 }),
  memoryBytes: Type.Integer({ minimum: 0 }),
  gpus: Type.Integer({ minimum: 0 }),
  flavour: Type.Optional(Type.String()),
  admittedAt: DateTime('When the session was admitted.'),
});

export const ResourceQuotaStatus = Type.Object({
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  window: Type.Optional(Type.String({ description: 'The window in force, if any.' })),
  used: Type.Optional(
    Type.Object({
      sessions: Type.Integer({ minimum: 0 }),
      cpuMillis: Type.Integer({ minimum: 0 }),
      memoryBytes: Type.Integer({ minimum: 0 }),
      gpus: Type.Integer({ minimum: 0 }),
    }),
  ),
  reservations: Type.Optional(
    Type.Unsafe<Array<Type.Static<typeof Reservation>>>({
      type: 'array',
      description: 'The admission ledger: one entry per admitted session.',
      maxItems: 10000,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['session'],
      items: Reservation,
    }),
  ),
  budgets: Type.Optional(
    Type.Object({
      gpuSecondsConsumed: Type.Integer({ minimum: 0 }),
      cpuSecondsConsumed: Type.Integer({ minimum: 0 }),
      asOf: Type.Optional(DateTime('When consumption was last added up.')),
    }),
  ),
  summary: Type.Optional(
    Type.Object({
      sessions: Type.Optional(Type.String()),
      gpus: Type.Optional(Type.String()),
      gpuHours: Type.Optional(Type.String()),
    }, { description: 'Pre-formatted for printer columns, e.g. 2/4.' }),
  ),
  conditions: Type.Optional(Conditions),
});
export type ResourceQuotaStatus = Type.Static<typeof ResourceQuotaStatus>;

export interface ResourceQuota {
  apiVersion: string;
  kind: 'ResourceQuota';
  metadata: ObjectMeta;
  spec: ResourceQuotaSpec;
  status?: ResourceQuotaStatus;
}

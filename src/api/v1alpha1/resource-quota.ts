// SPDX-License-Identifier: Apache-2.0
/**
 * ResourceQuota (resourcequotas.panalysis.io, short name pquota): the policy for the
 * analysis sessions of one proposal namespace. Not to be confused with core
 * v1 ResourceQuota, which stays a backstop.
 *
 * The status is the admission ledger: a session runs only while it holds a reservation
 * here, written by the quota controller with a compare-and-swap (resourceVersion) write.
 */
import Type from 'typebox';
import { Conditions, DateTime, DNS_LABEL_PATTERN, Duration, Quantity, StringEnum, StringMap } from './schema-helpers.ts';
import type { CelRule } from './schema-helpers.ts';
import type { ObjectMeta } from './group.ts';

export const ON_EXCEEDED = ['Queue', 'Reject'] as const;
export type OnExceeded = (typeof ON_EXCEEDED)[number];
export const ON_BUDGET_EXHAUSTED = ['Warn', 'Stop'] as const;

const NonNegativeQuantity = (description: string) => Quantity(description, { allowZero: true });

const Count = (description: string) => Type.Integer({ description, minimum: 0, maximum: 100000 });

/** A duration of at least one minute (a non-zero day, hour or minute part, or 60 seconds or more). */
export const AT_LEAST_A_MINUTE: CelRule = {
  rule: "self.matches('(^|[a-z])0*[1-9][0-9]*[dhm]') || self.matches('(^|[dhm])0*([6-9][0-9]|[1-9][0-9]{2,})s$')",
  message: 'maxSessionDuration must be at least one minute, e.g. 30m or 8h',
};

export const QuotaLimits = Type.Object(
  {
    sessions: Type.Optional(Count('Running sessions in the proposal at once.')),
    sessionsPerUser: Type.Optional(Count('Running sessions per user at once.')),
    cpu: Type.Optional(NonNegativeQuantity('Sum of CPU requests of running sessions.')),
    memory: Type.Optional(NonNegativeQuantity('Sum of memory requests of running sessions.')),
    gpus: Type.Optional(Count('GPUs (of any flavour) in use at once.')),
    gpusPerFlavour: Type.Optional(StringMap(Type.Integer({ minimum: 0, maximum: 100000 }), { description: 'GPUs in use at once per flavour, e.g. {a100: 2}; flavours not listed are limited only by gpus. Flavours must exist in the operator configuration.', maxProperties: 32 })),
    maxSessionDuration: Type.Optional(Type.Unsafe<string>({ ...Duration('Longest lifetime a session may have, e.g. 12h (at least 1m).'), 'x-kubernetes-validations': [AT_LEAST_A_MINUTE] })),
  },
  { description: 'Limits on what runs at the same time; an absent limit is unlimited, 0 forbids.' },
);
export type QuotaLimits = Type.Static<typeof QuotaLimits>;

const Hours = (description: string) => Type.Number({ description, minimum: 0, maximum: 1e9 });

export const QuotaBudgets = Type.Object(
  {
    gpuHours: Type.Optional(Hours('GPU-hours the proposal may use in all (never decays); fractions allowed.')),
    cpuHours: Type.Optional(Hours('CPU-hours (cores × hours requested) the proposal may use in all (never decays).')),
    onExhausted: Type.Optional(StringEnum(ON_BUDGET_EXHAUSTED, { description: 'Warn: running sessions get warning Events at 80% and 100% and keep running; Stop: also stopped (home kept) after gracePeriod.', default: 'Warn' })),
    gracePeriod: Type.Optional(Duration('With onExhausted: Stop, how long running sessions keep running after the budget is used up (default 15m).')),
  },
  { description: 'Cumulative budgets: consumption is counted from admission to release of every session run.' },
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
export type QuotaWindow = Type.Static<typeof Window>;

export const ResourceQuotaSpec = Type.Object(
  {
    proposal: Type.Optional(Type.String({ description: 'Proposal id; defaults to the namespace label panalysis.io/proposal.', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$' })),
    hard: Type.Optional(QuotaLimits),
    budgets: Type.Optional(QuotaBudgets),
    windows: Type.Optional(
      Type.Unsafe<QuotaWindow[]>({
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
    onExceeded: Type.Optional(StringEnum(ON_EXCEEDED, { description: 'Queue: the session waits in creation order with a reason; Reject: it is refused.', default: 'Queue' })),
  },
);
export type ResourceQuotaSpec = Type.Static<typeof ResourceQuotaSpec>;

const Stop = Type.Object({
  reason: Type.String({ description: 'Why the session must stop, e.g. BudgetExhausted.' }),
  message: Type.String(),
  at: DateTime('When it was asked to stop.'),
});

/** One admitted session run: what it holds, since when. */
export const Reservation = Type.Object({
  uid: Type.String({ description: 'UID of the session.' }),
  session: Type.String(),
  user: Type.String(),
  profile: Type.Optional(Type.String()),
  type: Type.Optional(Type.String()),
  run: Type.Integer({ minimum: 1, description: 'The run number, unique within this quota; a stopped and resumed session gets a new one.' }),
  cpuMillis: Type.Integer({ minimum: 0 }),
  memoryBytes: Type.Integer({ minimum: 0 }),
  gpus: Type.Integer({ minimum: 0 }),
  flavour: Type.Optional(Type.String()),
  admittedAt: DateTime('When the session was admitted; consumption counts from here.'),
  stop: Type.Optional(Stop),
});
export type Reservation = Type.Static<typeof Reservation>;

/** A session refused by the quota (at one generation of its spec: a changed spec asks again). */
export const Rejection = Type.Object({
  uid: Type.String(),
  session: Type.String(),
  generation: Type.Integer({ minimum: 0 }),
  reason: Type.String(),
  message: Type.String({ maxLength: 2048 }),
});
export type Rejection = Type.Static<typeof Rejection>;

/** A session waiting for room, with the limit it waits for. */
export const Waiting = Type.Object({
  uid: Type.String(),
  session: Type.String(),
  position: Type.Integer({ minimum: 1 }),
  reason: Type.String(),
  message: Type.String({ maxLength: 2048 }),
  since: Type.Optional(DateTime('When the session first waited.')),
});
export type Waiting = Type.Static<typeof Waiting>;

const ledger = <T extends Type.TSchema>(items: T, description: string) =>
  Type.Unsafe<Array<Type.Static<T>>>({ type: 'array', description, maxItems: 10000, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['uid'], items });

export const QuotaUsed = Type.Object({
  sessions: Type.Integer({ minimum: 0 }),
  cpuMillis: Type.Integer({ minimum: 0 }),
  memoryBytes: Type.Integer({ minimum: 0 }),
  gpus: Type.Integer({ minimum: 0 }),
  gpusPerFlavour: Type.Optional(StringMap(Type.Integer({ minimum: 0 }))),
});
export type QuotaUsed = Type.Static<typeof QuotaUsed>;

export const BudgetStatus = Type.Object({
  gpuSecondsConsumed: Type.Integer({ minimum: 0, description: 'GPU-seconds of finished runs (their usage records).' }),
  cpuMilliSecondsConsumed: Type.Integer({ minimum: 0, description: 'CPU-millicore-seconds of finished runs.' }),
  gpuWarned: Type.Optional(Type.Integer({ minimum: 0, description: 'Highest GPU budget threshold (80, 100) warned about.' })),
  cpuWarned: Type.Optional(Type.Integer({ minimum: 0 })),
  exhaustedAt: Type.Optional(DateTime('When a budget was first found used up.')),
  asOf: Type.Optional(DateTime('When the running consumption in summary was added up.')),
});
export type BudgetStatus = Type.Static<typeof BudgetStatus>;

export const ResourceQuotaStatus = Type.Object({
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  window: Type.Optional(Type.String({ description: 'The window in force, if any.' })),
  nextChange: Type.Optional(DateTime('The next window boundary.')),
  hard: Type.Optional(QuotaLimits),
  used: Type.Optional(QuotaUsed),
  nextRun: Type.Optional(Type.Integer({ minimum: 1, description: 'Run number of the next admission; absent means the ledger must be rebuilt from the cluster.' })),
  reservations: Type.Optional(ledger(Reservation, 'The admission ledger: one entry per admitted session run.')),
  waiting: Type.Optional(ledger(Waiting, 'Sessions waiting for room, in admission order.')),
  rejected: Type.Optional(ledger(Rejection, 'Sessions refused by the quota.')),
  budgets: Type.Optional(BudgetStatus),
  summary: Type.Optional(
    Type.Object({
      sessions: Type.Optional(Type.String()),
      gpus: Type.Optional(Type.String()),
      gpuHours: Type.Optional(Type.String()),
      cpuHours: Type.Optional(Type.String()),
      waiting: Type.Optional(Type.Integer({ minimum: 0 })),
    }, { description: 'Pre-formatted for printer columns, e.g. 2/4.' }),
  ),
  conditions: Type.Optional(Conditions),
});
export type ResourceQuotaStatus = Type.Static<typeof ResourceQuotaStatus>;

/** Root rules of the kind. */
export const resourceQuotaRootRules: CelRule[] = [];

export interface ResourceQuota {
  apiVersion: string;
  kind: 'ResourceQuota';
  metadata: ObjectMeta;
  spec: ResourceQuotaSpec;
  status?: ResourceQuotaStatus;
}

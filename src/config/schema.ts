// SPDX-License-Identifier: Apache-2.0
/**
 * The operator configuration: profiles, images, GPU flavours, defaults, the gateway's
 * base URL and the directory. One typed file (or ConfigMap key), validated at start
 * and on every reload.
 */
import Type from 'typebox';
import { DNS_LABEL_PATTERN, DURATION_PATTERN, GROUPNAME_PATTERN, QUANTITY_PATTERN, StringEnum, StringMap, USERNAME_PATTERN } from '../api/v1alpha1/schema-helpers.ts';
import { DESKTOP_PROTOCOLS, SESSION_TYPES } from '../api/v1alpha1/analysis-session.ts';
import { ResourceQuotaSpec } from '../api/v1alpha1/resource-quota.ts';
import { GatewayConfig } from './gateway.ts';
import { LdapConfig } from './ldap.ts';
import { Recipe } from './recipes.ts';

const Name = Type.String({ pattern: DNS_LABEL_PATTERN, maxLength: 63 });
const QuantityString = Type.Unsafe<string | number>({ anyOf: [{ type: 'integer', minimum: 1 }, { type: 'string', pattern: QUANTITY_PATTERN }] });
const DurationString = Type.String({ pattern: DURATION_PATTERN, minLength: 2 });
/** A container image reference; a digest (`@sha256:...`) pins it for reproducibility. */
const Image = Type.String({ pattern: '^[a-z0-9][a-z0-9._/:-]*[a-z0-9](@sha256:[a-f0-9]{64})?$', maxLength: 512 });

const Toleration = Type.Object({
  key: Type.Optional(Type.String()),
  operator: Type.Optional(StringEnum(['Exists', 'Equal'] as const)),
  value: Type.Optional(Type.String()),
  effect: Type.Optional(StringEnum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const)),
});

export const GpuFlavour = Type.Object({
  name: Name,
  displayName: Type.Optional(Type.String()),
  /** The extended resource, e.g. nvidia.com/gpu or nvidia.com/mig-1g.10gb. */
  resource: Type.String({ pattern: '^[a-z0-9.-]+/[a-z0-9._-]+$' }),
  nodeSelector: Type.Optional(StringMap(Type.String())),
  tolerations: Type.Optional(Type.Array(Toleration)),
  /** Most GPUs of this flavour one session may request. */
  maxCount: Type.Integer({ minimum: 1, maximum: 16, default: 1 }),
});
export type GpuFlavour = Type.Static<typeof GpuFlavour>;

/** How far a run may be renewed: each renewal (`spec.renewals`) adds `step`, at most `maxCount` times and up to `maxTotal` from the run's start. */
export const RenewalPolicy = Type.Object({
  step: Type.String({ pattern: DURATION_PATTERN, minLength: 2, default: '2h', description: 'Added to the lifetime by each renewal.' }),
  maxCount: Type.Integer({ minimum: 0, maximum: 1000, default: 3, description: 'Most renewals of one run (0: none).' }),
  maxTotal: Type.Optional(Type.String({ pattern: DURATION_PATTERN, minLength: 2, description: 'Longest run with its renewals, from its start; default the maximum lifetime.' })),
});
export type RenewalPolicy = Type.Static<typeof RenewalPolicy>;

/**
 * Idle culling: a session without activity (src/policy/idle.ts) for its idle timeout is stopped,
 * after a warning; opening it again starts it on the same home.
 */
export const IdlePolicyConfig = Type.Object({
  /** Idle timeout of sessions without `spec.idleTimeout`; absent: those are not culled. */
  timeout: Type.Optional(DurationString),
  /** Longest `spec.idleTimeout` a session may ask for; absent: no limit. */
  maxTimeout: Type.Optional(DurationString),
  /** Sessions with GPUs stop after at most this long without activity, whatever they ask. */
  gpuTimeout: Type.Optional(DurationString),
  /** The `Idle` warning (condition, Event, the gateway's banner) comes this long before the stop. */
  warnBefore: Type.String({ pattern: DURATION_PATTERN, minLength: 2, default: '10m' }),
}, { default: { warnBefore: '10m' } });
export type IdlePolicyConfig = Type.Static<typeof IdlePolicyConfig>;

/** A profile's own lifecycle limits, over `lifecycle` and `defaults`. */
const ProfileLifecycle = Type.Object({
  maxLifetime: Type.Optional(DurationString),
  renewals: Type.Optional(RenewalPolicy),
  /** The profile's own idle policy, in place of `lifecycle.idle` (e.g. a shorter timeout for GPU profiles). */
  idle: Type.Optional(IdlePolicyConfig),
});

export const Profile = Type.Object({
  name: Name,
  displayName: Type.Optional(Type.String()),
  type: StringEnum(SESSION_TYPES),
  image: Image,
  /** Desktop profiles: the protocols this image supports (default both). */
  protocols: Type.Optional(Type.Array(StringEnum(DESKTOP_PROTOCOLS), { minItems: 1 })),
  /** Overrides the image's command; desktops default to {@link DEFAULT_DESKTOP_COMMAND}. */
  command: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
  defaults: Type.Object({ cpu: QuantityString, memory: QuantityString }),
  limits: Type.Object({ cpu: QuantityString, memory: QuantityString }),
  gpuFlavours: Type.Optional(Type.Array(Name)),
  /** Extra supplementary groups the image needs (e.g. 100 `users` of docker-stacks images). */
  imageGroups: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }))),
  homeSize: Type.Optional(QuantityString),
  /** Where this profile's sessions run (e.g. visualisation nodes for desktops); a GPU flavour's selector is added to it. */
  nodeSelector: Type.Optional(StringMap(Type.String())),
  /** Taints this profile's sessions tolerate; a GPU flavour's tolerations are added to them. */
  tolerations: Type.Optional(Type.Array(Toleration)),
  /** The profile's own maximum lifetime and renewal policy (e.g. shorter for GPU profiles). */
  lifecycle: Type.Optional(ProfileLifecycle),
});
export type Profile = Type.Static<typeof Profile>;

const StaticUser = Type.Object({
  name: Type.String({ pattern: USERNAME_PATTERN }),
  uid: Type.Integer({ minimum: 0 }),
  gid: Type.Integer({ minimum: 0 }),
  home: Type.Optional(Type.String()),
  groups: Type.Optional(Type.Array(Type.String({ pattern: GROUPNAME_PATTERN }))),
});
const StaticGroup = Type.Object({
  name: Type.String({ pattern: GROUPNAME_PATTERN }),
  gid: Type.Integer({ minimum: 0 }),
  members: Type.Optional(Type.Array(Type.String({ pattern: USERNAME_PATTERN }))),
});

export const DirectoryConfig = Type.Object({
  provider: StringEnum(['static', 'ldap'] as const, { default: 'static' }),
  static: Type.Optional(Type.Object({ users: Type.Array(StaticUser), groups: Type.Optional(Type.Array(StaticGroup)) })),
  ldap: Type.Optional(LdapConfig),
  /** uids and gids below this are refused (system accounts, root). */
  minId: Type.Integer({ minimum: 1, default: 1000 }),
});
export type DirectoryConfig = Type.Static<typeof DirectoryConfig>;

const StaticProposal = Type.Object({
  id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$' }),
  members: Type.Array(Type.String({ pattern: USERNAME_PATTERN })),
  beamtime: Type.Optional(Type.Object({ start: Type.String({ format: 'date-time' }), end: Type.String({ format: 'date-time' }) })),
  embargoUntil: Type.Optional(Type.String({ format: 'date-time' })),
});

export const ProposalsConfig = Type.Object({
  /** static: the list below; ldap: one directory group per proposal (see directory.ldap.proposals). */
  provider: StringEnum(['static', 'ldap'] as const, { default: 'static' }),
  static: Type.Optional(Type.Array(StaticProposal)),
  /** Users who lose membership keep a running session this long before it is stopped. */
  revocationGracePeriod: DurationString,
  /**
   * Datasets without `writableUntil` stay writable this long after the end of the
   * proposal's beamtime (when the proposal source knows it), then read-only.
   */
  writeGraceAfterBeamtime: Type.String({ pattern: DURATION_PATTERN, minLength: 2, default: '7d' }),
}, { default: { provider: 'static', static: [], revocationGracePeriod: '15m', writeGraceAfterBeamtime: '7d' } });
export type ProposalsConfig = Type.Static<typeof ProposalsConfig>;

/**
 * An allowed root: an absolute path, where `{proposal}` stands for the proposal of the
 * DatasetMount's namespace (its `panalysis.io/proposal` label), e.g. `/gpfs/exp/{proposal}`.
 * No other `{...}` is accepted.
 */
const Root = Type.String({ pattern: '^/([^{}]|\\{proposal\\})*$', description: 'Absolute path; {proposal} is replaced by the namespace\'s proposal.' });

/** A handle or attribute value; `{proposal}` is replaced by the namespace's proposal. */
const ScopedValue = Type.String({ minLength: 1, maxLength: 1024, pattern: '^([^{}]|\\{proposal\\})*$' });

/**
 * The volumes of one CSI driver that DatasetMounts may name. A driver resolves its
 * `volumeHandle` (and often `volumeAttributes`) to storage by position or by name, so
 * only exact values are allowed: a DatasetMount must name one of `volumeHandles` and set
 * no attribute other than those in `volumeAttributes`, with the same value. `{proposal}`
 * makes a value per proposal (e.g. one fileset per proposal); in a namespace without a
 * proposal such values allow nothing.
 */
export const CsiSource = Type.Object({
  driver: Type.String({ pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', maxLength: 63 }),
  volumeHandles: Type.Array(ScopedValue, { minItems: 1 }),
  volumeAttributes: Type.Optional(StringMap(ScopedValue)),
});

/** Where datasets may come from; a DatasetMount outside these is refused. */
export const DatasetsConfig = Type.Object({
  nfs: Type.Array(Type.Object({ server: Type.String(), paths: Type.Array(Root) }), { default: [] }),
  hostPath: Type.Array(Root, { default: [], description: 'Roots of file systems mounted on every node (GPFS, Lustre); see docs/datasets.md on trees users can write.' }),
  csi: Type.Array(CsiSource, { default: [], description: 'CSI volumes DatasetMounts may name: per driver, the exact handles (and attributes), with {proposal}.' }),
  /** Mount options of NFS volumes; read-only volumes also get ro. */
  nfsMountOptions: Type.Array(Type.String(), { default: ['nfsvers=4.2', 'hard', 'nosuid', 'nodev'] }),
}, { default: { nfs: [], hostPath: [], csi: [], nfsMountOptions: ['nfsvers=4.2', 'hard', 'nosuid', 'nodev'] } });
export type DatasetsConfig = Type.Static<typeof DatasetsConfig>;

/**
 * IPv4 ranges that are not the public internet (RFC 6890 special-purpose registry):
 * this network, private, shared (CGNAT), loopback, link-local (cloud metadata), IETF
 * protocol assignments, documentation, 6to4 relay, benchmarking, multicast, reserved.
 */
export const SPECIAL_IPV4 = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24', '192.0.2.0/24',
  '192.88.99.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4', '240.0.0.0/4',
] as const;

/**
 * IPv6 ranges that are not the public internet: unspecified, loopback, NAT64 (well-known
 * and local-use prefixes, which reach IPv4 private ranges through a translator), discard,
 * IETF protocol assignments (Teredo), documentation, 6to4 (embeds IPv4), unique local
 * (private), site-local, link-local and multicast.
 */
export const SPECIAL_IPV6 = [
  '::/128', '::1/128', '64:ff9b::/96', '64:ff9b:1::/48', '100::/64', '2001::/23', '2001:db8::/32', '2002::/16',
  'fc00::/7', 'fec0::/10', 'fe80::/10', 'ff00::/8',
] as const;

/**
 * Where session pods may connect to. Data is mounted by the node, so pods need no route
 * to NFS or GPFS servers. Default: DNS, and the public internet (pip, conda, git) but no
 * private range, so not the apiserver, other sessions, cloud metadata or facility services.
 */
export const NetworkConfig = Type.Object({
  egress: Type.Object({
    /** `Restricted`: the rules below; `Unrestricted`: no egress policy at all. */
    mode: StringEnum(['Restricted', 'Unrestricted'] as const, { default: 'Restricted' }),
    dns: Type.Boolean({ default: true, description: 'Allow DNS to kube-system.' }),
    allow: Type.Array(Type.Object({ cidr: Type.String(), except: Type.Optional(Type.Array(Type.String())) }), {
      default: [{ cidr: '0.0.0.0/0', except: [...SPECIAL_IPV4] }, { cidr: '::/0', except: [...SPECIAL_IPV6] }],
    }),
    /**
     * Also except the API server's own addresses (the `kubernetes` EndpointSlice in
     * `default`), which may be public: NetworkPolicy egress is judged after Service
     * translation, so the endpoints, not the Service's ClusterIP, are what a pod reaches.
     * Watched from start (a change re-applies every session's policy); needs the chart's
     * Role in `default`. Turned off on a running operator it takes effect at once; turned on, at the next start.
     */
    excludeApiserver: Type.Boolean({ default: true }),
  }, { default: {} }),
}, { default: {} });
export type NetworkConfig = Type.Static<typeof NetworkConfig>;

/**
 * Facility policy for proposal quotas. With `default`, every proposal namespace that has
 * no ResourceQuota (panalysis.io) gets one named `defaultName` with this spec, created
 * once and never overwritten (edit it per proposal, or create your own, which then wins
 * and the written default is removed). Without it, proposals without their own quota run
 * sessions unlimited and unaccounted.
 */
export const QuotasConfig = Type.Object({
  default: Type.Optional(ResourceQuotaSpec),
  defaultName: Type.String({ pattern: DNS_LABEL_PATTERN, maxLength: 63, default: 'default' }),
}, { default: { defaultName: 'default' } });
export type QuotasConfig = Type.Static<typeof QuotasConfig>;

/**
 * The session lifecycle: warnings before a run ends, renewals, the end of the beamtime
 * and how long stopped sessions are kept (see src/policy/lifecycle.ts).
 */
export const LifecycleConfig = Type.Object({
  /** Lead times before the end of a run at which the Expiring condition and an Event warn, e.g. [1h, 10m]. */
  warnings: Type.Array(DurationString, { default: ['1h', '10m'], maxItems: 8 }),
  renewals: Type.Object(RenewalPolicy.properties, { default: {} }),
  /** Sessions stop this long after the end of their proposal's beamtime (when the proposal source knows it); absent: the beamtime does not stop sessions. */
  afterBeamtime: Type.Optional(DurationString),
  /** Stopped (or expired) sessions are deleted, with their home, this long after they stopped; absent: kept until deleted. */
  retention: Type.Optional(DurationString),
  idle: IdlePolicyConfig,
}, { default: { warnings: ['1h', '10m'], renewals: { step: '2h', maxCount: 3 }, idle: { warnBefore: '10m' } } });
export type LifecycleConfig = Type.Static<typeof LifecycleConfig>;

export const OperatorConfig = Type.Object({
  gateway: GatewayConfig,
  images: Type.Object({
    /** guacd sidecar of Guacamole desktops. */
    guacd: Image,
    /** WebSocket-to-VNC bridge of noVNC desktops (websockify). */
    websockify: Image,
  }),
  profiles: Type.Array(Profile, { minItems: 1 }),
  gpuFlavours: Type.Array(GpuFlavour, { default: [] }),
  defaults: Type.Object({
    lifetime: DurationString,
    maxLifetime: DurationString,
    homeSize: QuantityString,
    homeStorageClassName: Type.Optional(Type.String()),
  }),
  directory: DirectoryConfig,
  proposals: ProposalsConfig,
  datasets: DatasetsConfig,
  network: NetworkConfig,
  quotas: QuotasConfig,
  /** The notebook recipe catalogue (`spec.template.recipe` names one); see recipes.ts. */
  recipes: Type.Array(Recipe, { default: [] }),
  lifecycle: LifecycleConfig,
});
export type OperatorConfig = Type.Static<typeof OperatorConfig>;

// SPDX-License-Identifier: Apache-2.0
/**
 * Configuration of the LDAP directory and proposal adapters (`directory.ldap`). Secrets are
 * never inline: the bind password is read from a file, as mounted from a Kubernetes Secret.
 */
import Type from 'typebox';

const AbsolutePath = Type.String({ pattern: '^/', maxLength: 4096 });
const Dn = Type.String({ minLength: 3, maxLength: 1024, pattern: '^[^=,]+=' });
/** An attribute description (RFC 4512 `descr`), e.g. `facilityBeamtimeStart`. */
const AttributeName = Type.String({ pattern: '^[A-Za-z][A-Za-z0-9-]*$', maxLength: 128 });

/** Default `userFilter`: a posixAccount by `uid`. */
export const DEFAULT_USER_FILTER = '(&(objectClass=posixAccount)(uid={user}))';
/** Default `proposals.groupPattern`: proposal 20231234 is the group `cn=p20231234`. */
export const DEFAULT_PROPOSAL_GROUP_PATTERN = 'p{proposal}';

/**
 * `directory.ldap.proposals`: proposals as directory groups, one group per proposal whose
 * members are the proposal's (used when `proposals.provider` is `ldap`).
 */
export const LdapProposalsConfig = Type.Object({
  /** The `cn` of a proposal's group; `{proposal}` is replaced by the proposal id. */
  groupPattern: Type.String({ pattern: '\\{proposal\\}', maxLength: 128, default: DEFAULT_PROPOSAL_GROUP_PATTERN }),
  /** Attribute of the proposal group holding the beamtime start (Generalized Time or RFC 3339). */
  beamtimeStartAttribute: Type.Optional(AttributeName),
  /** Attribute of the proposal group holding the beamtime end; both are needed for a beamtime. */
  beamtimeEndAttribute: Type.Optional(AttributeName),
  /** Attribute of the proposal group holding the end of the data embargo. */
  embargoAttribute: Type.Optional(AttributeName),
}, { default: {}, additionalProperties: false });
/** {@link LdapProposalsConfig} with its defaults applied. */
export type LdapProposalsConfig = Type.Static<typeof LdapProposalsConfig>;

/**
 * `directory.ldap`: where the directory is, how to bind, where users and groups live, and how
 * long answers are reused. Every lookup is bounded by `timeoutMs`; an unreachable, slow or
 * misconfigured directory makes lookups fail (never answer "not found"). Unknown keys are
 * refused, so a misspelt key or an inline `bindPassword` is reported rather than ignored.
 */
export const LdapConfig = Type.Object({
  /** `ldap://host[:port]` or `ldaps://host[:port]`; no path, no query. */
  url: Type.String({ pattern: '^ldaps?://[^\\s/?#]+/?$', maxLength: 512 }),
  /** Upgrade an `ldap://` connection with StartTLS before binding (required for production). */
  startTLS: Type.Boolean({ default: false }),
  tls: Type.Object({
    /** PEM bundle of the CAs that sign the server certificate; default: Node's CA store. */
    caFile: Type.Optional(AbsolutePath),
    /** Accept any server certificate. For tests only: it gives the bind password away. */
    insecureSkipVerify: Type.Boolean({ default: false }),
  }, { default: {}, additionalProperties: false }),
  /** DN of a read-only service account; without it the adapter binds anonymously. */
  bindDN: Type.Optional(Dn),
  /** File holding the bind password (a trailing newline is ignored); read at every connection. */
  bindPasswordFile: Type.Optional(AbsolutePath),
  /** Subtree searched for users. */
  userBase: Dn,
  /** Filter finding one user; `{user}` is replaced by the escaped username (RFC 4515). */
  userFilter: Type.String({ pattern: '^\\(.*\\{user\\}.*\\)$', maxLength: 1024, default: DEFAULT_USER_FILTER }),
  /** Subtree searched for groups (posixGroup and groupOfNames). */
  groupBase: Dn,
  /** Levels of groups inside groups followed; 0 counts direct membership only. */
  nestedGroupDepth: Type.Integer({ minimum: 0, maximum: 10, default: 3 }),
  /** Bound on each lookup (connect, bind and every search together), in milliseconds. */
  timeoutMs: Type.Integer({ minimum: 100, maximum: 120_000, default: 5000 }),
  /** How long a found user or proposal is reused; 0 asks the directory every time. */
  cacheTtlSeconds: Type.Integer({ minimum: 0, maximum: 86_400, default: 300 }),
  /** How long "no such user/proposal" is reused. */
  negativeCacheTtlSeconds: Type.Integer({ minimum: 0, maximum: 86_400, default: 60 }),
  proposals: LdapProposalsConfig,
}, { additionalProperties: false });
/** {@link LdapConfig} with its defaults applied (as `parseConfig` returns it). */
export type LdapConfig = Type.Static<typeof LdapConfig>;

// SPDX-License-Identifier: Apache-2.0
/**
 * The `gateway` section of the configuration: where scientists reach their sessions, how
 * each session gets a web origin of its own, and the OpenID provider they log in with.
 * The operator reads `baseUrl`, `routing` and `sessionDomain` (to write `status.url`) and
 * the pod labels (the only peers a session accepts); the gateway reads all of it. Secrets
 * are never inline: the client secret and the cookie key are files, as mounted from
 * Kubernetes Secrets.
 */
import Type from 'typebox';
import { DNS_LABEL_PATTERN, DURATION_PATTERN, StringEnum, StringMap } from '../api/v1alpha1/schema-helpers.ts';

const AbsolutePath = Type.String({ pattern: '^/[^\\0]*$' });

/** How a facility username is read from the ID token (or UserInfo) claims. */
export const OidcConfig = Type.Object({
  /** The provider's issuer URL exactly as its discovery document states it. */
  issuer: Type.String({ pattern: '^https?://[^\\s]+$' }),
  clientId: Type.String({ minLength: 1 }),
  /** File holding the client secret (a trailing newline is ignored); `PANALYSIS_OIDC_CLIENT_SECRET` overrides it. */
  clientSecretFile: Type.Optional(AbsolutePath),
  scopes: Type.Array(Type.String({ pattern: '^[\\x21\\x23-\\x5b\\x5d-\\x7e]+$' }), { default: ['openid', 'profile', 'email'] }),
  /** Claim holding the facility username. */
  usernameClaim: Type.String({ default: 'preferred_username' }),
  /** Removed from the claim's value when present (e.g. `oidc:` as the apiserver's --oidc-username-prefix). */
  usernamePrefix: Type.String({ default: '' }),
  /** Claim holding the user's groups (an array of names); absent: groups come from the directory only. */
  groupsClaim: Type.String({ default: 'groups' }),
  /** Where the provider sends the browser after logout; default: the gateway's own logged-out page. */
  postLogoutRedirectUri: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$' })),
});
export type OidcConfig = Type.Static<typeof OidcConfig>;

export const GatewayConfig = Type.Object({
  /** Public URL of the gateway's own host: login, logout and pages. */
  baseUrl: Type.String({ pattern: '^https?://[^\\s/]+(/[^\\s]*)?$' }),
  /**
   * `subdomain` (recommended): each session is served from a host of its own,
   * `<label>.<sessionDomain>`, so what one session serves cannot act on another or on the
   * gateway. `path`: every session under `<baseUrl>/s/<namespace>/<name>/` on one origin,
   * for sites without wildcard DNS; sessions then share an origin (see README).
   */
  routing: StringEnum(['subdomain', 'path'] as const, { default: 'subdomain' }),
  /** Wildcard domain of the session hosts (`*.<sessionDomain>` must resolve to the gateway); scheme and port are those of `baseUrl`. */
  sessionDomain: Type.Optional(Type.String({ pattern: '^([a-z0-9]([a-z0-9-]*[a-z0-9])?\\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?$', maxLength: 190 })),
  /** Namespace and labels of the gateway pods (the only peers a session accepts). */
  namespace: Type.String({ pattern: DNS_LABEL_PATTERN, default: 'panalysis-system' }),
  podLabels: StringMap(Type.String(), { default: { 'app.kubernetes.io/component': 'gateway' } }),
  /** The OpenID provider; required by the gateway, unused by the operator. */
  oidc: Type.Optional(OidcConfig),
  /** File holding at least 32 random bytes (any encoding) that seal cookies and tickets; `PANALYSIS_GATEWAY_COOKIE_KEY` overrides it. Every replica needs the same. */
  cookieKeyFile: Type.Optional(AbsolutePath),
  /** How long a login lasts before the provider is asked again. */
  loginTtl: Type.String({ pattern: DURATION_PATTERN, minLength: 2, default: '8h' }),
  /** Most requests in flight and open WebSockets per user (beyond: 429), and in all. */
  limits: Type.Object({
    perUserConnections: Type.Integer({ minimum: 1, default: 256 }),
    totalConnections: Type.Integer({ minimum: 1, default: 10_000 }),
  }, { default: {} }),
  /**
   * Activity for idle culling: the gateway asks each Ready JupyterLab every `jupyterPoll` for its
   * own last activity and busy kernels (requests that JupyterLab does not count as activity), and
   * writes the latest activity it saw on a session at most once per `writeInterval`.
   */
  activity: Type.Object({
    jupyterPoll: Type.String({ pattern: DURATION_PATTERN, minLength: 2, default: '1m' }),
    writeInterval: Type.String({ pattern: DURATION_PATTERN, minLength: 2, default: '1m' }),
  }, { default: {} }),
});
export type GatewayConfig = Type.Static<typeof GatewayConfig>;

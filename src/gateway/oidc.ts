// SPDX-License-Identifier: Apache-2.0
/**
 * The gateway as an OpenID Connect relying party (openid-client): discovery with the issuer
 * checked, authorization code flow with PKCE (S256), state and nonce, the ID token's
 * issuer, audience, expiry and nonce checked by the library, RP-initiated logout, and the
 * mapping of claims to a facility username and groups.
 */
import * as client from 'openid-client';
import { readFileSync } from 'node:fs';
import type { OidcConfig } from '../config/gateway.ts';
import { USERNAME_PATTERN } from '../api/v1alpha1/schema-helpers.ts';

/** One login in progress: kept sealed in a cookie between the redirect and the callback. */
export interface LoginTransaction {
  state: string;
  nonce: string;
  verifier: string;
  /** Where to go after the login (a path on the gateway's host, checked before use). */
  next: string;
}

/** Who logged in. */
export interface LoginIdentity {
  user: string;
  groups: string[];
  /** Kept for the logout hint when small enough. */
  idToken?: string;
  /** When the provider's session for this login ends (ID token `exp`), ms. */
  expiresAt: number;
}

/** A start-up problem with the provider settings, naming the setting. */
export class OidcSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OidcSetupError';
  }
}

/** The client secret: `PANALYSIS_OIDC_CLIENT_SECRET`, else the file, else none (a public client). */
export function loadClientSecret(config: OidcConfig, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.PANALYSIS_OIDC_CLIENT_SECRET) return env.PANALYSIS_OIDC_CLIENT_SECRET;
  if (!config.clientSecretFile) return undefined;
  try {
    return readFileSync(config.clientSecretFile, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new OidcSetupError(`gateway.oidc.clientSecretFile: cannot read ${config.clientSecretFile}: ${(err as Error).message}`);
  }
}

/** The relying party for one provider. */
export class OidcClient {
  readonly #config: client.Configuration;
  readonly #settings: OidcConfig;
  readonly #redirectUri: string;

  private constructor(config: client.Configuration, settings: OidcConfig, redirectUri: string) {
    this.#config = config;
    this.#settings = settings;
    this.#redirectUri = redirectUri;
  }

  /**
   * Discovers the provider and checks the client's credentials.
   * @throws OidcSetupError naming `gateway.oidc.issuer` (unreachable, not a provider, another
   * issuer in its document) or the client secret setting (refused by the token endpoint).
   */
  static async create(settings: OidcConfig, redirectUri: string, secret: string | undefined, options: { timeoutMs?: number } = {}): Promise<OidcClient> {
    const issuer = new URL(settings.issuer);
    const insecure = issuer.protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : {};
    let config: client.Configuration;
    try {
      config = await client.discovery(issuer, settings.clientId, secret, secret ? client.ClientSecretBasic(secret) : client.None(), { ...insecure, timeout: Math.ceil((options.timeoutMs ?? 10_000) / 1000) });
    } catch (err) {
      throw new OidcSetupError(`gateway.oidc.issuer: discovery at ${settings.issuer} failed: ${describe(err)}. Check that the URL is the provider's issuer exactly as its /.well-known/openid-configuration states it, and that the gateway can reach it.`);
    }
    const rp = new OidcClient(config, settings, redirectUri);
    if (secret) await rp.#checkSecret();
    return rp;
  }

  /**
   * Asks the token endpoint for a client-credentials token: a provider answers
   * `invalid_client` only when the client id or secret is wrong (a client that may not use
   * that grant gets `unauthorized_client` or `unsupported_grant_type`, which is fine).
   */
  async #checkSecret(): Promise<void> {
    try {
      await client.clientCredentialsGrant(this.#config);
    } catch (err) {
      // A body error (`error`), or a 401 challenge in WWW-Authenticate (`cause[].parameters.error`).
      const e = err as { error?: string; cause?: unknown; response?: Response };
      const challenged = Array.isArray(e.cause) && e.cause.some((c: { parameters?: { error?: string } }) => c.parameters?.error === 'invalid_client');
      if (e.error === 'invalid_client' || challenged || e.response?.status === 401) {
        throw new OidcSetupError(`gateway.oidc.clientSecretFile: the provider refused client ${this.#settings.clientId} with this secret (invalid_client); check gateway.oidc.clientId and the secret (PANALYSIS_OIDC_CLIENT_SECRET or the file) against the client registered at ${this.#settings.issuer}.`);
      }
    }
  }

  /** Starts a login: the provider URL to send the browser to, and the transaction to keep. */
  async begin(next: string): Promise<{ url: string; transaction: LoginTransaction }> {
    const verifier = client.randomPKCECodeVerifier();
    const transaction: LoginTransaction = { state: client.randomState(), nonce: client.randomNonce(), verifier, next };
    const url = client.buildAuthorizationUrl(this.#config, {
      redirect_uri: this.#redirectUri,
      scope: this.#settings.scopes.join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: transaction.state,
      nonce: transaction.nonce,
    });
    return { url: url.href, transaction };
  }

  /**
   * Completes a login from the callback URL: exchanges the code (PKCE verifier, state and
   * nonce checked), reads the claims (UserInfo too when the ID token lacks the username).
   * @throws Error with a message fit for the user when the provider refused or a check failed.
   */
  async complete(callbackUrl: URL, t: LoginTransaction): Promise<LoginIdentity> {
    const tokens = await client.authorizationCodeGrant(this.#config, callbackUrl, { pkceCodeVerifier: t.verifier, expectedState: t.state, expectedNonce: t.nonce, idTokenExpected: true });
    const idClaims = tokens.claims()!;
    let claims: Record<string, unknown> = { ...idClaims };
    if (claims[this.#settings.usernameClaim] === undefined && tokens.access_token) {
      claims = { ...claims, ...(await client.fetchUserInfo(this.#config, tokens.access_token, idClaims.sub)) };
    }
    const { user, groups } = mapClaims(claims, this.#settings);
    const idToken = tokens.id_token && tokens.id_token.length <= 2048 ? tokens.id_token : undefined;
    return { user, groups, ...(idToken ? { idToken } : {}), expiresAt: idClaims.exp * 1000 };
  }

  /** The provider's logout URL (RP-initiated logout), or `undefined` when it has none. */
  logoutUrl(idToken: string | undefined, postLogoutRedirectUri: string): string | undefined {
    if (!this.#config.serverMetadata().end_session_endpoint) return undefined;
    const params: Record<string, string> = { post_logout_redirect_uri: postLogoutRedirectUri, client_id: this.#settings.clientId };
    if (idToken) params.id_token_hint = idToken;
    return client.buildEndSessionUrl(this.#config, params).href;
  }
}

/**
 * The facility username and groups from the claims: `usernameClaim` with `usernamePrefix`
 * removed must be a valid facility username; `groupsClaim` (if an array of strings) gives groups.
 * @throws Error naming the claim when the username is missing or malformed.
 */
export function mapClaims(claims: Record<string, unknown>, settings: Pick<OidcConfig, 'usernameClaim' | 'usernamePrefix' | 'groupsClaim'>): { user: string; groups: string[] } {
  const raw = claims[settings.usernameClaim];
  if (typeof raw !== 'string') throw new Error(`The provider gave no ${settings.usernameClaim} claim, which names your facility account (gateway.oidc.usernameClaim).`);
  const user = settings.usernamePrefix && raw.startsWith(settings.usernamePrefix) ? raw.slice(settings.usernamePrefix.length) : raw;
  if (!new RegExp(USERNAME_PATTERN).test(user)) throw new Error(`The ${settings.usernameClaim} claim "${raw.slice(0, 64)}" is not a facility username (gateway.oidc.usernameClaim, usernamePrefix).`);
  const g = claims[settings.groupsClaim];
  const groups = Array.isArray(g) ? g.filter((x): x is string => typeof x === 'string' && x.length <= 256).slice(0, 512) : [];
  return { user, groups };
}

function describe(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string; code?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return `${e.message ?? String(err)}${cause ? ` (${cause})` : ''}`;
}

// SPDX-License-Identifier: Apache-2.0
/**
 * The oidc-provider configuration of the local identity provider: fixed clients and users,
 * authorization code flow with PKCE (S256) only, claims in the ID token, automatic consent
 * for the configured (first-party) clients, fresh keys on every start.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import type { Configuration, OidcContext, Account, Grant } from 'oidc-provider';
import type { LocalIdpOptions, LocalIdpUser } from './local-idp.ts';
import { memoryAdapterFactory } from './local-idp-store.ts';
import { PAGE_CSP, errorPage, logoutPage, signedOutPage } from './local-idp-pages.ts';

/** Scopes offered; `groups` is ours, the others are OpenID Connect's. */
export const IDP_SCOPES = ['openid', 'profile', 'email', 'groups'];

const CLAIMS = {
  openid: ['sub'],
  profile: ['name', 'preferred_username'],
  email: ['email', 'email_verified'],
  groups: ['groups'],
};

/** A new RS256 and a new ES256 private signing key as JWKs (the public halves go to the JWKS). */
export function newSigningKeys(): JsonWebKey[] {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const kid = () => randomBytes(12).toString('base64url');
  return [{ ...rsa, alg: 'RS256', use: 'sig', kid: kid() }, { ...ec, alg: 'ES256', use: 'sig', kid: kid() }];
}

/** The claims of `user`: `sub` and `preferred_username` are the username. */
export function userClaims(user: LocalIdpUser): Record<string, unknown> {
  return {
    sub: user.username,
    preferred_username: user.username,
    ...(user.name !== undefined ? { name: user.name } : {}),
    ...(user.email !== undefined ? { email: user.email, email_verified: true } : {}),
    groups: [...(user.groups ?? [])],
  };
}

/**
 * Every configured client is first-party: its grant is created (or extended) with the
 * requested scopes and claims, so the consent prompt never shows. The interaction handler
 * still answers a consent prompt that an RP forces with `prompt=consent`.
 */
async function loadFirstPartyGrant(ctx: OidcContext): Promise<Grant | undefined> {
  const { client, session, provider, result } = ctx.oidc;
  const accountId = session?.accountId;
  if (!client || !accountId) return undefined;
  const grantId = result?.consent?.grantId ?? session.grantIdFor(client.clientId);
  const existing = grantId ? await provider.Grant.find(grantId) : undefined;
  const grant = existing ?? new provider.Grant({ clientId: client.clientId, accountId });
  grant.addOIDCScope([...ctx.oidc.requestParamOIDCScopes].join(' '));
  if (ctx.oidc.requestParamClaims.size > 0) grant.addOIDCClaims([...ctx.oidc.requestParamClaims]);
  await grant.save();
  return grant;
}

function html(ctx: OidcContext, body: string): void {
  ctx.type = 'html';
  ctx.set('content-security-policy', PAGE_CSP);
  ctx.body = body;
}

/**
 * The whole provider configuration. `interactionPath` maps an interaction uid to the
 * sign-in page's path (served next to the provider by local-idp-interaction.ts).
 */
export function idpConfiguration(options: LocalIdpOptions, interactionPath: (uid: string) => string): Configuration {
  const users = new Map(options.users.map((u) => [u.username, u]));
  const ttl = { accessTokenS: 3600, idTokenS: 3600, sessionS: 8 * 3600, ...options.ttl };
  return {
    adapter: memoryAdapterFactory(),
    clients: options.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: c.redirectUris,
      post_logout_redirect_uris: c.postLogoutRedirectUris ?? [],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: c.tokenEndpointAuthMethod ?? 'client_secret_basic',
    })),
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    responseTypes: ['code'],
    scopes: IDP_SCOPES,
    claims: CLAIMS,
    // Claims of the granted scopes go into the ID token too, not only to the userinfo endpoint.
    conformIdTokenClaims: false,
    allowOmittingSingleRegisteredRedirectUri: false,
    pkce: { required: () => true },
    findAccount: (_ctx: unknown, sub: string): Account | undefined => {
      const user = users.get(sub);
      return user && { accountId: sub, claims: () => userClaims(user) };
    },
    loadExistingGrant: loadFirstPartyGrant,
    // Confidential clients talk to the token endpoint from servers: no browser origin needs CORS.
    clientBasedCORS: () => false,
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => interactionPath(interaction.uid) },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx: OidcContext, form: string) => html(ctx, logoutPage(form, ctx.host)),
        postLogoutSuccessSource: (ctx: OidcContext) => html(ctx, signedOutPage()),
      },
    },
    renderError: (ctx: OidcContext, out: Record<string, string>) => {
      html(ctx, errorPage(out.error_description ?? out.error ?? 'The request failed'));
    },
    jwks: { keys: newSigningKeys() },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    ttl: {
      AccessToken: ttl.accessTokenS,
      IdToken: ttl.idTokenS,
      Session: ttl.sessionS,
      Grant: ttl.sessionS,
      Interaction: 600,
      AuthorizationCode: 60,
    },
  };
}

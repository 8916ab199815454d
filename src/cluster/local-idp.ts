// SPDX-License-Identifier: Apache-2.0
/**
 * A real OpenID provider for the embedded default (`panalysis up`) and the tests, built on
 * oidc-provider: authorization code flow with PKCE (S256) required, a sign-in page of its
 * own, RP-initiated logout, and fixed users and clients. Plain http on a loopback address.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import Provider from 'oidc-provider';
import { idpConfiguration } from './local-idp-config.ts';
import { INTERACTION_PREFIX, handleInteraction } from './local-idp-interaction.ts';
import { errorPage } from './local-idp-pages.ts';

/** A user who can sign in; `sub` and `preferred_username` of the ID token are `username`. */
export interface LocalIdpUser {
  username: string;
  password: string;
  name?: string;
  email?: string;
  groups?: string[];
}

/** A confidential client (authorization code flow). */
export interface LocalIdpClient {
  clientId: string;
  clientSecret: string;
  /** Exact redirect URIs (http on loopback names is allowed). */
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  /**
   * How the client authenticates at the token endpoint; one method per client, as registered
   * (default `client_secret_basic`, openid-client's `ClientSecretBasic`).
   */
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post';
}

export interface LocalIdpOptions {
  /** Port to listen on; 0 or absent picks a free one. */
  port?: number;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Host name of the issuer URL `http://<issuerHost>:<port>` (default localhost). */
  issuerHost?: string;
  users: LocalIdpUser[];
  clients: LocalIdpClient[];
  /** Lifetimes in seconds (defaults: access and ID token 3600, session 8 h). */
  ttl?: { accessTokenS?: number; idTokenS?: number; sessionS?: number };
}

export interface LocalIdp {
  /** The issuer URL, without a trailing slash; discovery is at `${issuer}/.well-known/openid-configuration`. */
  issuer: string;
  port: number;
  /** Closes the server and destroys every open connection; resolves when it is closed. */
  stop(): Promise<void>;
}

function listen(server: ReturnType<typeof createServer>, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}

/**
 * Starts the provider. Keys (RS256 and ES256) and cookie keys are new on every start, and all
 * state is in memory: sessions and tokens do not survive {@link LocalIdp.stop}.
 * Nothing secret is logged: a failed request logs its error message only.
 * @throws when the port cannot be bound or the options are rejected by oidc-provider
 *   (for example a redirect URI that is not an absolute URL).
 */
export async function startLocalIdp(options: LocalIdpOptions): Promise<LocalIdp> {
  const users = new Map(options.users.map((u) => [u.username, u]));
  const sockets = new Set<Socket>();
  let handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.writeHead(503).end();
  };
  const server = createServer((req, res) => handle(req, res));
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const port = await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  const issuer = `http://${options.issuerHost ?? 'localhost'}:${port}`;
  let provider: Provider;
  try {
    provider = new Provider(issuer, idpConfiguration(options, (uid) => `${INTERACTION_PREFIX}${uid}`));
  } catch (err) {
    server.close();
    throw err;
  }
  provider.on('server_error', (_ctx, err) => console.error(`local-idp: request failed: ${(err as Error).message}`));
  const providerHandler = provider.callback();
  handle = (req, res) => {
    if (!(req.url ?? '').startsWith(INTERACTION_PREFIX)) return providerHandler(req, res);
    handleInteraction(provider, users, issuer, req, res).catch((err: Error) => {
      console.error(`local-idp: interaction failed: ${err.message}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/html; charset=utf-8' });
      res.end(errorPage('The sign-in failed; try again.'));
    });
  };
  return {
    issuer,
    port,
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    }),
  };
}

// SPDX-License-Identifier: Apache-2.0
import { HttpMethod, RequestContext, type KubeConfig } from '@kubernetes/client-node';
import { Agent, type Dispatcher } from 'undici';

/** One HTTP request to the API server; `body` is sent as JSON under `contentType`. */
export interface KubeRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Absolute API path, e.g. `/api/v1/namespaces/ns/pods/p`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly body?: unknown;
  /** Default `application/json` when a body is sent. */
  readonly contentType?: string;
}

/**
 * The raw API port: plain JSON in and out, no typed models.
 *
 * Guarantees: resolves with the parsed response body (or `undefined` for an empty one) on 2xx; rejects with a
 * {@link KubeApiError} for any other status.
 */
export interface KubeTransport {
  /** Sends `req` and resolves with the parsed JSON body. */
  request<T = unknown>(req: KubeRequest): Promise<T>;
}

/** A non-2xx answer of the API server, carrying the `Status` it returned. */
export class KubeApiError extends Error {
  /** HTTP status code (404, 409, 410, 422, ...). */
  readonly code: number;
  /** `Status.reason` (`NotFound`, `Conflict`, `Invalid`, `Expired`, ...) or `Unknown`. */
  readonly reason: string;

  constructor(code: number, reason: string, message: string) {
    super(message);
    this.name = 'KubeApiError';
    this.code = code;
    this.reason = reason;
  }

  /** Builds the error from a response status and body text (a `Status` object when the server sent one). */
  static fromResponse(code: number, text: string): KubeApiError {
    let reason = 'Unknown';
    let message = text.slice(0, 1024) || `HTTP ${code}`;
    try {
      const status = JSON.parse(text) as { reason?: unknown; message?: unknown };
      if (typeof status.reason === 'string' && status.reason) reason = status.reason;
      if (typeof status.message === 'string' && status.message) message = status.message;
    } catch {
      // Not JSON (a proxy error page, for instance): keep the raw text.
    }
    return new KubeApiError(code, reason, message);
  }
}

/** The HTTP status code of an API error from any client-node path (`KubeApiError`, `ApiException`, watch errors). */
export function statusCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, statusCode: status } = err as { code?: unknown; statusCode?: unknown };
  if (typeof code === 'number') return code;
  return typeof status === 'number' ? status : undefined;
}

/** True for HTTP 404. */
export const isNotFound = (err: unknown): boolean => statusCode(err) === 404;
/** True for HTTP 409 (a stale resourceVersion, or an object that already exists). */
export const isConflict = (err: unknown): boolean => statusCode(err) === 409;
/** True for HTTP 410 (a resourceVersion too old for the watch cache or etcd history). */
export const isGone = (err: unknown): boolean => statusCode(err) === 410;
/** True for HTTP 422 (validation failed, or a JSON Patch `test` op did not match). */
export const isInvalid = (err: unknown): boolean => statusCode(err) === 422;

/** Options of {@link createKubeTransport}. */
export interface KubeTransportOptions {
  /** Abort a request that has not completed after this long; default 30 s. */
  readonly timeoutMs?: number;
}

/**
 * What decides the TLS identity of a connection to the current context: the server, its CA and the client
 * certificate. A change of any of them (a rewritten kubeconfig) makes {@link createKubeTransport} open new
 * connections; a bearer token does not, it travels in a header.
 */
function tlsIdentity(kc: KubeConfig): string {
  const c = kc.getCurrentCluster();
  const u = kc.getCurrentUser();
  return JSON.stringify([c?.server, c?.caData, c?.caFile, c?.skipTLSVerify, c?.tlsServerName, c?.proxyUrl, u?.certData, u?.certFile, u?.keyData, u?.keyFile]);
}

/** How long the credentials of one lookup are used before the kubeconfig is asked again (a rotated token). */
export const CREDENTIALS_TTL_MS = 10_000;

/** The headers and connection pool of the current context, as {@link createKubeTransport} keeps them. */
interface Credentials {
  readonly identity: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly dispatcher: Dispatcher;
  readonly until: number;
}

/**
 * The transport over client-node's notion of a context: the current context's server, credentials and TLS settings
 * (`KubeConfig.applySecurityAuthentication`), sent with undici's `request` on the agent client-node builds, minus
 * the generated API classes' typed serialisation (which drops unknown fields and turns timestamps into `Date`s).
 *
 * Costs: client-node reads the CA and client certificate and builds a new undici agent, hence a new TLS connection,
 * for every request, and `fetch` wraps each answer in WHATWG streams. Here the credentials are looked up once per
 * {@link CREDENTIALS_TTL_MS} and the first agent is kept for all later requests with the same TLS identity (server,
 * CA, client certificate), so a burst of requests shares a few keep-alive connections instead of paying a TLS
 * handshake and a certificate read each.
 *
 * Guarantees: a changed TLS identity (a rewritten kubeconfig) takes effect at the next request, on new
 * connections; a rotated bearer token within {@link CREDENTIALS_TTL_MS}, and at once after a 401.
 * Assumptions: `kc` has a current cluster; a client certificate that only an exec plugin returns is taken from the
 * first lookup.
 */
export function createKubeTransport(kc: KubeConfig, options: KubeTransportOptions = {}): KubeTransport {
  const timeoutMs = options.timeoutMs ?? 30_000;
  let kept: Credentials | undefined;
  let lookup: { identity: string; credentials: Promise<Credentials> } | undefined;

  async function lookUp(server: string, identity: string): Promise<Credentials> {
    const ctx = new RequestContext(server, HttpMethod.GET);
    await kc.applySecurityAuthentication(ctx);
    const fresh = ctx.getDispatcher();
    const headers = { ...ctx.getHeaders() };
    // The kubeconfig changed again while this lookup ran: serve the requests that waited for it, keep nothing.
    if (lookup !== undefined && lookup.identity !== identity) return { identity, headers, dispatcher: fresh ?? new Agent(), until: 0 };
    let dispatcher: Dispatcher;
    if (kept?.identity === identity) {
      dispatcher = kept.dispatcher;
      void fresh?.close().catch(() => undefined);
    } else {
      void kept?.dispatcher.close().catch(() => undefined);
      dispatcher = fresh ?? new Agent();
    }
    kept = { identity, headers, dispatcher, until: performance.now() + CREDENTIALS_TTL_MS };
    return kept;
  }

  function credentials(server: string): Promise<Credentials> | Credentials {
    const identity = tlsIdentity(kc);
    if (kept?.identity === identity && performance.now() < kept.until) return kept;
    if (lookup?.identity !== identity) {
      const pending = { identity, credentials: lookUp(server, identity).finally(() => lookup === pending && (lookup = undefined)) };
      lookup = pending;
    }
    return lookup.credentials;
  }

  return {
    async request<T>(req: KubeRequest): Promise<T> {
      const server = kc.getCurrentCluster()?.server;
      if (!server) throw new Error('KubeConfig has no current cluster');
      const url = new URL(server.replace(/\/+$/, '') + req.path);
      for (const [name, value] of Object.entries(req.query ?? {})) {
        if (value !== undefined) url.searchParams.set(name, String(value));
      }
      const { headers, dispatcher } = await credentials(server);
      const sent: Record<string, string> = { ...headers, Accept: 'application/json' };
      let body: string | undefined;
      if (req.body !== undefined) {
        sent['Content-Type'] = req.contentType ?? 'application/json';
        body = JSON.stringify(req.body);
      }
      const response = await dispatcher.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: req.method,
        headers: sent,
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.body.text();
      if (response.statusCode === 401 && kept) kept = { ...kept, until: 0 };
      if (response.statusCode < 200 || response.statusCode > 299) {
        throw KubeApiError.fromResponse(response.statusCode, text);
      }
      return (text ? JSON.parse(text) : undefined) as T;
    },
  };
}

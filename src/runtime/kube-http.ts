// SPDX-License-Identifier: Apache-2.0
import { HttpMethod, IsomorphicFetchHttpLibrary, RequestContext, type KubeConfig } from '@kubernetes/client-node';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

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

/**
 * The transport over client-node's own HTTP stack: the current context's server, credentials and TLS settings
 * (`KubeConfig.applySecurityAuthentication`) and its undici-based `IsomorphicFetchHttpLibrary`, i.e. exactly what
 * the generated API classes use, minus their typed serialisation (which drops unknown fields and turns timestamps
 * into `Date`s).
 *
 * Connections are kept and reused: client-node builds a new undici agent, hence a new TLS connection, for every
 * request; here the first agent is kept for all later requests with the same TLS identity (server, CA, client
 * certificate), so a burst of requests shares a few HTTP/2 or keep-alive connections instead of paying a TLS
 * handshake each.
 *
 * Assumptions: `kc` has a current cluster. Credentials are re-applied per request, so rotated tokens are picked up;
 * a client certificate that only an exec plugin returns is taken from the first request.
 */
export function createKubeTransport(kc: KubeConfig, options: KubeTransportOptions = {}): KubeTransport {
  const http = new IsomorphicFetchHttpLibrary();
  const timeoutMs = options.timeoutMs ?? 30_000;
  let kept: { identity: string; dispatcher: Dispatcher } | undefined;
  return {
    async request<T>(req: KubeRequest): Promise<T> {
      const server = kc.getCurrentCluster()?.server;
      if (!server) throw new Error('KubeConfig has no current cluster');
      const url = new URL(server.replace(/\/+$/, '') + req.path);
      for (const [name, value] of Object.entries(req.query ?? {})) {
        if (value !== undefined) url.searchParams.set(name, String(value));
      }
      const ctx = new RequestContext(url.toString(), HttpMethod[req.method]);
      ctx.setHeaderParam('Accept', 'application/json');
      if (req.body !== undefined) {
        ctx.setHeaderParam('Content-Type', req.contentType ?? 'application/json');
        ctx.setBody(JSON.stringify(req.body));
      }
      ctx.setSignal(AbortSignal.timeout(timeoutMs));
      await kc.applySecurityAuthentication(ctx);
      const identity = tlsIdentity(kc);
      const fresh = ctx.getDispatcher();
      if (fresh && kept?.identity !== identity) {
        const old = kept?.dispatcher;
        kept = { identity, dispatcher: fresh };
        void old?.close().catch(() => undefined);
      }
      if (fresh && kept) ctx.setDispatcher(kept.dispatcher);
      const response = await http.send(ctx).toPromise();
      const text = await response.body.text();
      if (response.httpStatusCode < 200 || response.httpStatusCode > 299) {
        throw KubeApiError.fromResponse(response.httpStatusCode, text);
      }
      return (text ? JSON.parse(text) : undefined) as T;
    },
  };
}

// SPDX-License-Identifier: Apache-2.0
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the probe server reports. */
export interface ProbeHandlers {
  /** Liveness: false only when the process should be restarted. */
  readonly healthy: () => boolean;
  /** Readiness: caches synced and not shutting down. */
  readonly ready: () => boolean;
  /** Prometheus text exposition. */
  readonly metrics: () => string | Promise<string>;
}

/** A running probe server. */
export interface ProbeServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/**
 * Serves `GET /healthz` (200/500), `GET /readyz` (200/503) and `GET /metrics` (Prometheus text 0.0.4) with
 * `node:http`; anything else is 404, other methods 405.
 *
 * Caveats: no authentication; restrict access with a NetworkPolicy when metrics must not leak.
 */
export async function startProbeServer(port: number, host: string | undefined, handlers: ProbeHandlers): Promise<ProbeServer> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const reply = (code: number, body: string, type = 'text/plain; charset=utf-8'): void => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'method not allowed\n');
    try {
      if (path === '/healthz') return handlers.healthy() ? reply(200, 'ok\n') : reply(500, 'unhealthy\n');
      if (path === '/readyz') return handlers.ready() ? reply(200, 'ok\n') : reply(503, 'not ready\n');
      if (path === '/metrics') {
        void Promise.resolve()
          .then(() => handlers.metrics())
          .then((text) => reply(200, text, 'text/plain; version=0.0.4; charset=utf-8'), () => reply(500, 'internal error\n'));
        return;
      }
      return reply(404, 'not found\n');
    } catch {
      return reply(500, 'internal error\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

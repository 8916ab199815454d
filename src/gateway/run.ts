// SPDX-License-Identifier: Apache-2.0
/**
 * `panalysis gateway`: the way in for scientists. Several replicas serve at once (no
 * leader election); each keeps its own read-only cache of sessions, their pods and Secrets.
 * Start-up fails with one message naming the setting when the provider, the client secret
 * or the cookie key is wrong.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { LABELS } from '../api/v1alpha1/group.ts';
import { parseDuration } from '../api/quantity.ts';
import { ConfigHolder } from '../config/watch.ts';
import { jsonLogger } from '../runtime/log.ts';
import type { Logger } from '../runtime/log.ts';
import { Manager } from '../runtime/manager.ts';
import { sourcesFromConfig } from '../operator/sources.ts';
import { ActivityRecorder } from './activity.ts';
import { JupyterActivityPoller } from './jupyter-activity.ts';
import { gatewayOrigin } from './context.ts';
import type { GatewayContext } from './context.ts';
import { loadClientSecret, OidcClient, OidcSetupError } from './oidc.ts';
import { loadCookieKey, Sealer } from './seal.ts';
import { SessionIndex } from './session-index.ts';
import { startGatewayServer } from './server.ts';
import type { GatewayServer } from './server.ts';
import { Tickets } from './tickets.ts';

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  configPath: string;
  /** Port of the gateway itself; 0 picks a free one. */
  port: number;
  host?: string;
  /** Probe and metrics port (`/healthz`, `/readyz`, `/metrics`); 0 picks a free one. */
  probePort: number;
  kubeconfig?: KubeConfig;
  logger?: Logger;
  configPollMs?: number;
}

/** A started gateway. */
export interface Gateway {
  port: number;
  probePort?: number;
  server: GatewayServer;
  manager: Manager;
  stop(): Promise<void>;
}

/**
 * Starts the gateway and resolves once its caches are synced and it listens.
 * @throws OidcSetupError or Error naming the setting at fault.
 */
export async function startGateway(o: GatewayOptions): Promise<Gateway> {
  const logger = o.logger ?? jsonLogger();
  const holder = new ConfigHolder(o.configPath, (msg, kv) => logger.info(msg, kv as never));
  const config = holder.current();
  if (!config.gateway.oidc) throw new OidcSetupError('gateway.oidc: required by the gateway: the issuer, clientId and client secret of the OpenID provider scientists sign in with');
  const sealer = new Sealer(loadCookieKey(config.gateway.cookieKeyFile));
  const oidc = await OidcClient.create(config.gateway.oidc, `${gatewayOrigin(config.gateway)}/_panalysis/callback`, loadClientSecret(config.gateway.oidc));
  let sources = sourcesFromConfig(config);
  holder.onChange((c) => (sources = sourcesFromConfig(c)));
  const kc = o.kubeconfig ?? new KubeConfig();
  if (!o.kubeconfig) kc.loadFromDefault();
  const manager = Manager.fromKubeConfig(kc, {
    logger,
    transform: false,
    // Like the operator, Secrets are read only in proposal namespaces (where a RoleBinding grants it).
    namespaceScoped: { plurals: ['secrets'], namespaceSelector: LABELS.proposal },
    server: { port: o.probePort, host: o.host ?? '0.0.0.0' },
  });
  const index = new SessionIndex(manager);
  const ctx: GatewayContext = {
    config: () => holder.current().gateway,
    index,
    sealer,
    tickets: new Tickets(sealer),
    oidc,
    access: { directory: () => sources.directory, proposals: () => sources.proposals, proposalOf: (ns) => index.proposalOf(ns) },
    logger,
    metrics: manager.metrics,
    activity: new ActivityRecorder(manager.kube, logger, parseDuration(config.gateway.activity.writeInterval)),
    now: Date.now,
  };
  const running = manager.start();
  running.catch((err: Error) => logger.error('Gateway caches stopped', { error: err.message }));
  while (!index.hasSynced()) await new Promise((r) => setTimeout(r, 100));
  const server = await startGatewayServer(ctx, o.port, o.host);
  const jupyter = new JupyterActivityPoller(index, ctx.activity!, logger, { intervalMs: () => parseDuration(holder.current().gateway.activity.jupyterPoll) });
  jupyter.start();
  holder.watch(o.configPollMs ?? 5000);
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  logger.info('Gateway listening', { port, baseUrl: config.gateway.baseUrl, routing: config.gateway.routing });
  return {
    port,
    server,
    manager,
    stop: async () => {
      holder.stop();
      jupyter.stop();
      await server.close();
      await ctx.activity?.stop();
      await manager.stop();
    },
  };
}

/** Runs the gateway until SIGTERM/SIGINT; exit code 0, or 1 when start-up failed. */
export async function runGateway(o: GatewayOptions): Promise<number> {
  const logger = o.logger ?? jsonLogger();
  let gateway: Gateway;
  try {
    gateway = await startGateway({ ...o, logger });
  } catch (err) {
    logger.error('The gateway cannot start', { error: (err as Error).message });
    process.stderr.write(`panalysis gateway: ${(err as Error).message}\n`);
    return 1;
  }
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await gateway.stop();
  return 0;
}

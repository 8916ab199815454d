// SPDX-License-Identifier: Apache-2.0
/** The settings jupyterhub_config.py reads (a JSON file named by PANALYSIS_HUB_SETTINGS). */

/** What one hub run needs to know; ports and tokens are chosen by the caller. */
export interface HubSettingsInput {
  namespace: string;
  withStorage: boolean;
  /** Proxy public port: the REST API is reached through it, as a user's browser would. */
  publicPort: number;
  hubPort: number;
  proxyApiPort: number;
  /** Port of the local HTTP server that answers the hub's readiness check for every pod. */
  readinessPort: number;
  apiToken: string;
  proxyToken: string;
  /** argv of configurable-http-proxy. */
  proxyCommand: string[];
  /** Directory for the sqlite database, cookie secret and proxy pid file. */
  dir: string;
  /** JupyterHub's concurrent_spawn_limit; undefined keeps JupyterHub's default (100). */
  concurrentSpawnLimit?: number;
}

/** The JSON document jupyterhub_config.py applies; see that file for how each field is used. */
export interface HubSettings extends HubSettingsInput {
  serviceName: string;
  image: string;
  cpuGuarantee: number;
  memGuarantee: string;
  storageCapacity: string;
  startTimeoutSeconds: number;
  httpTimeoutSeconds: number;
}

/** The service whose token the workload uses (admin:users and admin:servers scopes). */
export const SERVICE_NAME = 'sessionbench';

/**
 * Settings for one hub: the caller's ports, tokens and namespace plus the fixed choices of the
 * baseline: the image kwok never pulls, guarantees equal to a session's (100m CPU, 256Mi memory),
 * a 10Gi home claim when `withStorage`, and start/HTTP timeouts long enough for bursts of thousands.
 * Pure; the same input gives the same output.
 */
export function hubSettings(input: HubSettingsInput): HubSettings {
  return {
    ...input,
    serviceName: SERVICE_NAME,
    image: 'registry.invalid/x',
    cpuGuarantee: 0.1,
    memGuarantee: '256M', // JupyterHub's ByteSpecification: M is 2^20 bytes, so this is 256Mi
    storageCapacity: '10Gi',
    startTimeoutSeconds: 900,
    httpTimeoutSeconds: 300,
  };
}

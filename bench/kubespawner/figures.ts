// SPDX-License-Identifier: Apache-2.0
/** Turns the timestamps of one hub burst into the figures sessionbench reports. */

/** One burst of the JupyterHub + KubeSpawner baseline; latencies in ms from each user's spawn request. */
export interface HubRun {
  size: number;
  withStorage: boolean;
  /** Spawn request → pod first seen by the watch, per user whose pod appeared. */
  podCreated: number[];
  /** Spawn request → pod Ready condition True, per user whose pod got there. */
  podReady: number[];
  /** Spawn request → the hub says the server is ready (201 answer, or `ready` in its progress stream). */
  serverReady: number[];
  /** First spawn request → last server ready. */
  seconds: number;
  serversPerSecond: number;
  /** Hub CPU seconds (user + system) from the first spawn request to the last server ready. */
  hubCpuSeconds: number;
  /** Peak RSS of the hub since it started (a fresh hub per burst). */
  hubPeakRssMb: number;
  proxyCpuSeconds: number;
  /** Set when the hub did not bring all `size` servers up: how, and how many were ready. */
  failed?: { reason: string; ready: number };
}

/** Timestamps (performance.now() ms) per user, as the workload collected them. */
export interface HubTimes {
  sent: Map<string, number>;
  podCreated: Map<string, number>;
  podReady: Map<string, number>;
  serverReady: Map<string, number>;
}

/** Costs of the hub and proxy processes over the burst. */
export interface HubCosts {
  hubCpuSeconds: number;
  hubPeakRssMb: number;
  proxyCpuSeconds: number;
}

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * The figures of a burst. Only users with a request time count; a user missing from a later stage
 * is left out of that stage's list (so a failed run reports what was reached). `seconds` runs from
 * the first request to the last server ready (0 when none was ready); `failure`, when given, is
 * reported with the number of ready servers.
 */
export function summariseHubRun(size: number, withStorage: boolean, t: HubTimes, costs: HubCosts, failure?: string): HubRun {
  const since = (stage: Map<string, number>) =>
    [...t.sent].filter(([user]) => stage.has(user)).map(([user, sent]) => Math.round(stage.get(user)! - sent));
  const serverReady = since(t.serverReady);
  const first = Math.min(...t.sent.values());
  const readyTimes = [...t.serverReady.entries()].filter(([user]) => t.sent.has(user)).map(([, at]) => at);
  const seconds = readyTimes.length ? (Math.max(...readyTimes) - first) / 1000 : 0;
  return {
    size,
    withStorage,
    podCreated: since(t.podCreated),
    podReady: since(t.podReady),
    serverReady,
    seconds: round(seconds),
    serversPerSecond: seconds > 0 ? round(serverReady.length / seconds, 2) : 0,
    hubCpuSeconds: round(costs.hubCpuSeconds, 2),
    hubPeakRssMb: costs.hubPeakRssMb,
    proxyCpuSeconds: round(costs.proxyCpuSeconds, 2),
    ...(failure === undefined ? {} : { failed: { reason: failure, ready: serverReady.length } }),
  };
}

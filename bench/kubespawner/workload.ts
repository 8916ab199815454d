// SPDX-License-Identifier: Apache-2.0
/**
 * The JupyterHub + KubeSpawner baseline of sessionbench: a fresh hub spawns `size` servers through
 * its REST API into a fresh namespace of the benchmark's cluster, timed from a pod watch and the
 * hub's own answers (client clock).
 */
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import { waitFor } from '../../src/cluster/wait.ts';
import { cpuSeconds, peakRssMb } from '../operator-process.ts';
import { summariseHubRun } from './figures.ts';
import type { HubRun, HubTimes } from './figures.ts';
import { hubApi } from './hub-api.ts';
import { watchPods } from './pod-watch.ts';
import type { HubApi } from './hub-api.ts';
import { startHub } from './hub.ts';
import { installHub } from './install.ts';
import type { Hub } from './hub.ts';

export type { HubRun } from './figures.ts';
export { KUBESPAWNER_VERSIONS } from './install.ts';

export interface BurstOptions {
  kubeconfig: string;
  namespace: string;
  size: number;
  withStorage: boolean;
  /** Spawn requests in flight at most (default 16, as the loader's creations). */
  concurrency?: number;
  /** JupyterHub's concurrent_spawn_limit; undefined keeps its default (100). */
  concurrentSpawnLimit?: number;
  /** Called as pods appear (`created`, from the watch) and servers become ready. */
  onProgress?: (created: number, ready: number) => void;
}

const podUser = (p: V1Pod) => p.metadata?.annotations?.['hub.jupyter.org/username'] ?? p.metadata?.name?.replace(/^jupyter-/, '') ?? '';
const isReady = (p: V1Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const pidCpu = (pid: number | undefined) => {
  try {
    return pid ? cpuSeconds(pid) : 0;
  } catch {
    return 0;
  }
};

/** Runs `task(i)` for i < n with at most `limit` in flight; stops taking new i once `stop()` is true. */
async function pool(n: number, limit: number, stop: () => boolean, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < n && !stop()) await task(next++);
  }));
}

/** A namespace with its default service account (pods are refused before it exists). */
async function createNamespace(core: CoreV1Api, name: string): Promise<void> {
  await core.createNamespace({ body: { metadata: { name } } });
  await waitFor(`namespace ${name}`, async () => Boolean(await core.readNamespacedServiceAccount({ name: 'default', namespace: name })), 30_000);
}

/** Sends the spawn requests and waits for every accepted spawn to end; returns the failure, if any. */
async function spawnAll(api: HubApi, hub: Hub, users: string[], o: BurstOptions, t: HubTimes, report: () => void): Promise<string | undefined> {
  let failure: string | undefined;
  const fail = (why: string) => (failure ??= why);
  const streams = new AbortController();
  void hub.exited.then((how) => {
    fail(`the hub process ended (${how}) during the burst: ${hub.logTail(600)}`);
    streams.abort();
  });
  const pending: Array<Promise<void>> = [];
  await pool(users.length, o.concurrency ?? 16, () => failure !== undefined, async (i) => {
    const user = users[i]!;
    t.sent.set(user, performance.now());
    const reply = await api.call('POST', `/users/${user}/server`).catch((err: Error) => ({ status: 0, text: err.message }));
    if (reply.status === 201) t.serverReady.set(user, performance.now());
    else if (reply.status === 202) {
      pending.push(api.progress(user, streams.signal).then((outcome) => {
        if (outcome.ready) t.serverReady.set(user, performance.now());
        else fail(`spawn of ${user} failed: ${outcome.message}`);
      }, (err: Error) => void fail(`progress of ${user}: ${err.message}`)));
    } else {
      const limit = reply.status === 429 ? ' (spawn limit: concurrent_spawn_limit or active_server_limit)' : '';
      fail(`spawn request ${i + 1} of ${users.length} (${user}) answered HTTP ${reply.status}${limit}: ${reply.text.slice(0, 300)}`);
      return;
    }
    report();
  });
  // A spawn whose progress never ends must not hold the benchmark forever: give up after the deadline.
  const deadlineMs = Math.max(SPAWN_DEADLINE_MIN_MS, users.length * 1000);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      fail(`${t.serverReady.size} of ${users.length} servers ready when the burst's deadline of ${deadlineMs / 1000} s passed`);
      streams.abort();
      resolve();
    }, deadlineMs);
  });
  await Promise.race([Promise.all(pending), expired]);
  clearTimeout(timer);
  return failure;
}

/** The least time a burst is given before it counts as failed (the longer of this and 1 s per server). */
const SPAWN_DEADLINE_MIN_MS = 600_000;

/** Stops every user's server and deletes the users (retrying while a server is still stopping). */
async function removeUsers(api: HubApi, users: string[]): Promise<void> {
  const deadline = Date.now() + 300_000;
  await pool(users.length, 16, () => Date.now() > deadline, async (i) => {
    while (Date.now() < deadline) {
      const r = await api.call('DELETE', `/users/${users[i]}`).catch(() => ({ status: 0, text: '' }));
      if (r.status === 204 || r.status === 404 || r.status === 0) return;
      await new Promise((res) => setTimeout(res, 500));
    }
  });
}

/**
 * One burst of `size` servers from a fresh hub in the fresh namespace `namespace`: creates the
 * users, then asks for their servers (at most `concurrency` requests in flight), and times per user
 * from the request: pod created and pod Ready (pod watch), server ready (a 201 answer, else the
 * `ready` event of the hub's progress stream for that server).
 *
 * Never throws for the hub's own failures (an HTTP error such as 429, a failed or timed-out spawn,
 * the hub process ending): the run then stops sending, waits for the spawns already accepted, and
 * returns what was reached with `failed`; so does a hub that does not start (with its log's tail)
 * or refuses the users. Afterwards it deletes the users (stopping their servers), stops the hub and
 * proxy and deletes the namespace (waiting up to 5 min until it is gone).
 * @throws Error only when the baseline cannot be installed or the namespace cannot be created.
 */
export async function kubespawnerBurst(o: BurstOptions): Promise<HubRun> {
  await installHub();
  const kc = new KubeConfig();
  kc.loadFromFile(o.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  await createNamespace(core, o.namespace);
  const t: HubTimes = { sent: new Map(), podCreated: new Map(), podReady: new Map(), serverReady: new Map() };
  const report = () => o.onProgress?.(t.podCreated.size, t.serverReady.size);
  const watch = await watchPods(kc, o.namespace, (pod) => {
    const now = performance.now();
    const user = podUser(pod);
    if (!t.podCreated.has(user)) t.podCreated.set(user, now);
    if (!t.podReady.has(user) && isReady(pod)) t.podReady.set(user, now);
    report();
  });
  let hub: Hub | undefined;
  const users = Array.from({ length: o.size }, (_, i) => `u${i}`);
  const none = { hubCpuSeconds: 0, hubPeakRssMb: 0, proxyCpuSeconds: 0 };
  try {
    try {
      hub = await startHub(o);
    } catch (err) {
      return summariseHubRun(o.size, o.withStorage, t, none, `the hub did not start: ${(err as Error).message}`);
    }
    const api = hubApi(hub.url, hub.token);
    const made = await api.call('POST', '/users', { usernames: users }).catch((err: Error) => ({ status: 0, text: err.message }));
    if (made.status !== 201) return summariseHubRun(o.size, o.withStorage, t, none, `creating ${o.size} hub users answered HTTP ${made.status}: ${made.text.slice(0, 300)}`);
    const hubPid = hub.child.pid!;
    const cpu0 = pidCpu(hubPid);
    const proxyCpu0 = pidCpu(hub.proxyPid());
    const failure = await spawnAll(api, hub, users, o, t, report);
    const costs = {
      hubCpuSeconds: Math.max(0, pidCpu(hubPid) - cpu0),
      hubPeakRssMb: peakRssMbOf(hubPid),
      proxyCpuSeconds: Math.max(0, pidCpu(hub.proxyPid()) - proxyCpu0),
    };
    // The pod watch may trail the hub by a moment; a ready server implies a Ready pod.
    await waitFor('pod watch', async () => t.podReady.size >= t.serverReady.size, 10_000, '', 50).catch(() => undefined);
    const run = summariseHubRun(o.size, o.withStorage, t, costs, failure);
    await removeUsers(api, users);
    return run;
  } finally {
    watch.abort();
    await hub?.stop();
    await deleteNamespace(core, o.namespace);
  }
}

function peakRssMbOf(pid: number): number {
  try {
    return peakRssMb(pid);
  } catch {
    return 0;
  }
}

/** Deletes `name` and waits (up to 5 min) until it is gone, so its pods no longer take node room. */
async function deleteNamespace(core: CoreV1Api, name: string): Promise<void> {
  await core.deleteNamespace({ name }).catch(() => undefined);
  await waitFor(`namespace ${name} gone`, async () => {
    try {
      await core.readNamespace({ name });
      return false;
    } catch {
      return true;
    }
  }, 300_000, '', 500).catch(() => undefined);
}

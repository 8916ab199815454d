// SPDX-License-Identifier: Apache-2.0
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { done, type ReconcileResult } from './errors.ts';
import type { WatchSpec } from './list-watch.ts';
import { noopLogger } from './log.ts';
import { LeaderElectionLostError, Manager, type ManagerOptions } from './manager.ts';
import type { KubeObject, ResourceType } from './resource.ts';
import { FakeClock, flushPromises } from './testing/fake-clock.ts';
import { FakeKube } from './testing/fake-kube.ts';
import { FakeLeases, LeaseLink } from './testing/fake-leases.ts';
import { FakeListWatch } from './testing/fake-list-watch.ts';

const SESSIONS: ResourceType = { apiVersion: 'panalysis.example/v1alpha1', kind: 'AnalysisSession', plural: 'analysissessions', namespaced: true };
const session = (name: string): KubeObject => ({ apiVersion: SESSIONS.apiVersion, kind: SESSIONS.kind, metadata: { name, namespace: 'ns' } });

let managers: Manager[] = [];
afterEach(async () => {
  await Promise.all(managers.map((m) => m.stop()));
  managers = [];
});

interface World {
  readonly clock: FakeClock;
  readonly api: FakeListWatch<KubeObject>;
  readonly leases: FakeLeases;
}

function world(): World {
  const api = new FakeListWatch<KubeObject>();
  api.upsert(session('s1'));
  return { clock: new FakeClock(), api, leases: new FakeLeases() };
}

function replica(w: World, identity: string, options: Partial<ManagerOptions> = {}) {
  const link = new LeaseLink(w.leases);
  const reconciled: string[] = [];
  const manager = new Manager({
    kube: new FakeKube(),
    listWatch: (_spec: WatchSpec) => w.api,
    leaderElection: { namespace: 'sys', name: 'op', identity, api: link },
    clock: w.clock,
    logger: noopLogger,
    random: () => 0,
    ...options,
  });
  manager.addController({
    name: 'sessions',
    for: { resource: SESSIONS },
    reconcile: async (req): Promise<ReconcileResult> => (reconciled.push(`${identity}:${req.key}`), done()),
  });
  managers.push(manager);
  return { manager, link, reconciled, started: manager.start() };
}

async function get(port: number | undefined, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

describe('Manager', () => {
  it('serves health, readiness and metrics, and turns ready once the caches synced', async () => {
    const w = world();
    w.api.failNextList = new Error('apiserver starting');
    const { manager } = replica(w, 'a', { server: { port: 0, host: '127.0.0.1' }, leaderElection: undefined });
    await w.clock.advance(0);
    expect(await get(manager.port, '/healthz')).toEqual({ status: 200, body: 'ok\n' });
    expect((await get(manager.port, '/readyz')).status).toBe(503);
    await w.clock.advance(1_000);
    expect((await get(manager.port, '/readyz')).status).toBe(200);
    const metrics = (await get(manager.port, '/metrics')).body;
    expect(metrics).toContain('controller_runtime_reconcile_total{controller="sessions",result="success"} 1');
    expect(metrics).toContain('workqueue_depth{name="sessions"} 0');
    expect(metrics).toContain('controller_runtime_kube_writes_total{verb="apply"} 0');
    expect(metrics).toContain('controller_runtime_reflector_errors_total{kind="AnalysisSession"');
    expect(metrics).toContain('controller_runtime_reconcile_time_seconds_bucket{le="+Inf",controller="sessions"} 1');
    expect(metrics).toContain('controller_runtime_reconcile_time_seconds_count{controller="sessions"} 1');
    expect(metrics).toContain('workqueue_queue_duration_seconds_count{name="sessions"} 1');
    expect(metrics).toMatch(/^workqueue_queue_duration_seconds_sum\{name="sessions"\} [0-9.e+-]+$/m);
    expect((await get(manager.port, '/nope')).status).toBe(404);
  });

  it('shares one reflector per watch spec and refuses new sources once started', async () => {
    const w = world();
    const manager = new Manager({ kube: new FakeKube(), listWatch: () => w.api, clock: w.clock, logger: noopLogger });
    managers.push(manager);
    expect(manager.source({ resource: SESSIONS })).toBe(manager.source({ resource: SESSIONS }));
    expect(manager.source({ resource: SESSIONS, namespace: 'ns' })).not.toBe(manager.source({ resource: SESSIONS }));
    void manager.start();
    expect(() => manager.source({ resource: SESSIONS, labelSelector: 'a=b' })).toThrow('before start()');
  });

  it('serves a label-selected source from the unselected source of the same kind: one list, one cache', async () => {
    const w = world();
    w.api.upsert({ ...session('mine'), metadata: { name: 'mine', namespace: 'ns', labels: { owner: 'us' } } });
    const specs: WatchSpec[] = [];
    const manager = new Manager({ kube: new FakeKube(), listWatch: (spec) => (specs.push(spec), w.api), clock: w.clock, logger: noopLogger });
    managers.push(manager);
    const selected = manager.source({ resource: SESSIONS, labelSelector: 'owner=us' });
    const seen: string[] = [];
    selected.store.onChange((type, obj) => seen.push(`${type} ${obj.metadata?.name}`));
    const all = manager.source({ resource: SESSIONS });
    const alone = manager.source({ resource: SESSIONS, namespace: 'ns', labelSelector: 'owner=us' });
    void manager.start();
    await w.clock.advance(0);
    expect(manager.isReady()).toBe(true);
    expect(specs.map((s) => [s.namespace, s.labelSelector])).toEqual([[undefined, undefined], ['ns', 'owner=us']]);
    expect(all.store.keys().sort()).toEqual(['ns/mine', 'ns/s1']);
    expect(selected.store.keys()).toEqual(['ns/mine']);
    expect(alone.store.keys()).toEqual(['ns/mine']);
    expect(seen).toEqual(['ADDED mine']);
    expect(manager.lookup({ apiVersion: SESSIONS.apiVersion, kind: SESSIONS.kind, namespace: 'ns', name: 's1' })?.metadata?.name).toBe('s1');
  });

  it('runs controllers on the leader only, and hands over at once when the leader stops', async () => {
    const w = world();
    const a = replica(w, 'a');
    await w.clock.advance(0);
    const b = replica(w, 'b');
    await w.clock.advance(5_000);
    expect(a.reconciled).toEqual(['a:ns/s1']);
    expect(b.reconciled).toEqual([]);
    await a.manager.stop();
    await a.started;
    expect(w.leases.lease?.spec?.holderIdentity).toBe('');
    await w.clock.advance(2_000);
    expect(b.reconciled).toEqual(['b:ns/s1']);
    expect(w.leases.lease?.spec?.holderIdentity).toBe('b');
  });

  it('shuts down on SIGTERM: drains, releases the lease, closes the watches', async () => {
    const w = world();
    const signals = new EventEmitter();
    const a = replica(w, 'a');
    a.manager.handleSignals(signals as unknown as NodeJS.Process);
    await w.clock.advance(0);
    expect(w.api.openWatches()).toBe(1);
    signals.emit('SIGTERM', 'SIGTERM');
    await a.started;
    expect(w.api.openWatches()).toBe(0);
    expect(w.leases.lease?.spec?.holderIdentity).toBe('');
    expect(a.manager.isReady()).toBe(false);
  });

  it('stops everything and rejects start() when the lease is lost', async () => {
    const w = world();
    const a = replica(w, 'a');
    const outcome = a.started.catch((err: unknown) => err);
    await w.clock.advance(0);
    a.link.mode = 'fail';
    await w.clock.advance(15_000);
    await flushPromises();
    expect(await outcome).toBeInstanceOf(LeaderElectionLostError);
    expect(w.api.openWatches()).toBe(0);
  });
});

// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { changedBeyondStatus, Controller, ownerKeys, type ControllerOptions, type ReconcileRequest, type Source } from './controller.ts';
import { done, requeueAfter, TerminalError, type ReconcileResult } from './errors.ts';
import { SLICE_MS } from './event-loop.ts';
import { MetricsRegistry } from './metrics.ts';
import type { KubeObject, ResourceType } from './resource.ts';
import { MemoryStore } from './store.ts';
import { FakeClock, flushPromises } from './testing/fake-clock.ts';

const SESSIONS: ResourceType = { apiVersion: 'panalysis.example/v1alpha1', kind: 'AnalysisSession', plural: 'analysissessions', namespaced: true };
const PODS: ResourceType = { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true };

let rv = 1;
function obj(resource: ResourceType, name: string, extra: Partial<KubeObject['metadata']> = {}): KubeObject {
  return { apiVersion: resource.apiVersion, kind: resource.kind, metadata: { name, namespace: 'ns', resourceVersion: String(rv++), ...extra } };
}

function source(resource: ResourceType, objects: KubeObject[] = []): Source<KubeObject> & { store: MemoryStore<KubeObject> } {
  const store = new MemoryStore<KubeObject>();
  store.replace(objects);
  return { spec: { resource }, store, waitForSync: async () => true };
}

type Behaviour = (req: ReconcileRequest, call: number) => Promise<ReconcileResult>;

function setup(behaviour: Behaviour, options: Partial<ControllerOptions<KubeObject>> = {}) {
  const clock = new FakeClock();
  const sessions = source(SESSIONS, [obj(SESSIONS, 'a')]);
  const calls: Array<{ key: string; at: number }> = [];
  const errors: string[] = [];
  const metrics = new MetricsRegistry();
  const controller = new Controller<KubeObject>({
    name: 'sessions',
    for: sessions,
    clock,
    metrics,
    reconcile: (req) => {
      calls.push({ key: req.key, at: clock.now() });
      return behaviour(req, calls.filter((c) => c.key === req.key).length);
    },
    onError: async (req, err) => void errors.push(`${req.key}:${err.reason}`),
    ...options,
  });
  return { clock, sessions, calls, errors, metrics, controller };
}

describe('Controller', () => {
  it('reconciles every key at start and again on each change', async () => {
    const { clock, sessions, calls, controller } = setup(async () => done());
    await controller.start();
    await clock.advance(0);
    sessions.store.apply('ADDED', obj(SESSIONS, 'b'));
    sessions.store.apply('MODIFIED', obj(SESSIONS, 'a'));
    await clock.advance(0);
    expect(calls.map((c) => c.key).sort()).toEqual(['ns/a', 'ns/a', 'ns/b']);
    await controller.stop();
  });

  it('maps owned children to their controller owner and watched objects through the mapper', async () => {
    const pods = source(PODS);
    const nodes = source({ apiVersion: 'v1', kind: 'Node', plural: 'nodes', namespaced: false });
    const { clock, calls, controller } = setup(async () => done(), {
      owns: [pods],
      watches: [{ source: nodes, map: () => ['ns/from-node'] }],
    });
    await controller.start();
    await clock.advance(0);
    calls.length = 0;
    const owner = { apiVersion: SESSIONS.apiVersion, kind: SESSIONS.kind, name: 'a', uid: 'u', controller: true };
    pods.store.apply('ADDED', obj(PODS, 'a-pod', { ownerReferences: [owner] }));
    pods.store.apply('ADDED', obj(PODS, 'stray', { ownerReferences: [{ ...owner, name: 'x', controller: false }] }));
    nodes.store.apply('ADDED', { ...obj(nodes.spec.resource, 'n1'), metadata: { name: 'n1', resourceVersion: '1' } });
    await clock.advance(0);
    expect(calls.map((c) => c.key).sort()).toEqual(['ns/a', 'ns/from-node']);
    await controller.stop();
  });

  it('retries a thrown error with per-key backoff, then forgets the backoff on success', async () => {
    const { clock, calls, controller, metrics } = setup(async (_req, call) => {
      if (call <= 3) throw Object.assign(new Error('conflict'), { reason: 'Conflict' });
      return done();
    });
    await controller.start();
    await clock.advance(60_000);
    expect(calls.map((c) => c.at - calls[0]!.at)).toEqual([0, 1_000, 3_000, 7_000]);
    expect(controller.queue.numRequeues('ns/a')).toBe(0);
    expect(await metrics.render()).toContain('controller_runtime_reconcile_errors_total{controller="sessions",reason="Conflict"} 3');
    await controller.stop();
  });

  it('hands a terminal error to onError once and does not retry it', async () => {
    const { clock, calls, errors, controller, metrics } = setup(async () => {
      throw new TerminalError('DatasetNotFound', 'dataset raw-42 does not exist');
    });
    await controller.start();
    await clock.advance(9 * 60_000);
    expect(calls).toHaveLength(1);
    expect(errors).toEqual(['ns/a:DatasetNotFound']);
    expect(await metrics.render()).toContain('controller_runtime_reconcile_total{controller="sessions",result="terminal_error"} 1');
    await controller.stop();
  });

  it('retries a terminal error whose onError failed, so the condition is not lost', async () => {
    let failures = 1;
    const { clock, calls, controller } = setup(
      async () => {
        throw new TerminalError('Invalid', 'bad spec');
      },
      {
        onError: async () => {
          if (failures-- > 0) throw new Error('apiserver down');
        },
      },
    );
    await controller.start();
    await clock.advance(10_000);
    expect(calls).toHaveLength(2);
    await controller.stop();
  });

  it('requeues after the requested delay, and a change in between does not cancel it', async () => {
    const { clock, sessions, calls, controller } = setup(async (_req, call) => (call === 1 ? requeueAfter(30_000) : done()));
    await controller.start();
    await clock.advance(10_000);
    sessions.store.apply('MODIFIED', obj(SESSIONS, 'a'));
    await clock.advance(20_000);
    expect(calls.map((c) => c.at - calls[0]!.at)).toEqual([0, 10_000, 30_000]);
    await controller.stop();
  });

  it('never runs one key twice at once, runs it once more for changes made meanwhile, and caps concurrency', async () => {
    let active = 0;
    let maxActive = 0;
    const running = new Set<string>();
    const { clock, sessions, calls, controller } = setup(
      async (req) => {
        expect(running.has(req.key)).toBe(false);
        running.add(req.key);
        maxActive = Math.max(maxActive, ++active);
        await new Promise<void>((resolve) => clock.after(1_000, resolve));
        running.delete(req.key);
        active -= 1;
        return done();
      },
      { concurrency: 2 },
    );
    sessions.store.replace([obj(SESSIONS, 'a'), obj(SESSIONS, 'b'), obj(SESSIONS, 'c')]);
    await controller.start();
    await clock.advance(100);
    for (let i = 0; i < 5; i++) sessions.store.apply('MODIFIED', obj(SESSIONS, 'a'));
    await clock.advance(10_000);
    expect(maxActive).toBe(2);
    expect(calls.filter((c) => c.key === 'ns/a')).toHaveLength(2);
    await controller.stop();
  });

  it('times each reconcile and each key\'s wait in the queue, as Prometheus histograms', async () => {
    const { clock, sessions, controller, metrics } = setup(
      async () => {
        await new Promise<void>((resolve) => clock.after(2_000, resolve));
        return done();
      },
      { concurrency: 1 },
    );
    sessions.store.replace([obj(SESSIONS, 'a'), obj(SESSIONS, 'b')]);
    await controller.start();
    await clock.advance(10_000);
    const text = await metrics.render();
    expect(text).toContain('# TYPE controller_runtime_reconcile_time_seconds histogram');
    expect(text).toContain('controller_runtime_reconcile_time_seconds_bucket{le="1",controller="sessions"} 0');
    expect(text).toContain('controller_runtime_reconcile_time_seconds_bucket{le="2.5",controller="sessions"} 2');
    expect(text).toContain('controller_runtime_reconcile_time_seconds_bucket{le="+Inf",controller="sessions"} 2');
    expect(text).toContain('controller_runtime_reconcile_time_seconds_sum{controller="sessions"} 4');
    expect(text).toContain('controller_runtime_reconcile_time_seconds_count{controller="sessions"} 2');
    // One worker: the first key is taken at once, the second waits for the first reconcile.
    expect(text).toContain('# TYPE workqueue_queue_duration_seconds histogram');
    expect(text).toContain('workqueue_queue_duration_seconds_bucket{le="0.001",name="sessions"} 1');
    expect(text).toContain('workqueue_queue_duration_seconds_bucket{le="1",name="sessions"} 1');
    expect(text).toContain('workqueue_queue_duration_seconds_bucket{le="2.5",name="sessions"} 2');
    expect(text).toContain('workqueue_queue_duration_seconds_sum{name="sessions"} 2');
    expect(text).toContain('workqueue_queue_duration_seconds_count{name="sessions"} 2');
    await controller.stop();
  });

  it('takes the next key at the fake time the last reconcile ended, also when the worker stepped aside for the event loop', async () => {
    const { clock, sessions, calls, controller } = setup(
      async () => {
        // Real time spent in a reconcile makes the worker yield (setImmediate) before it takes the next key.
        const until = performance.now() + SLICE_MS + 5;
        while (performance.now() < until);
        await new Promise<void>((resolve) => clock.after(1_000, resolve));
        return done();
      },
      { concurrency: 1 },
    );
    sessions.store.replace([obj(SESSIONS, 'a'), obj(SESSIONS, 'b'), obj(SESSIONS, 'c')]);
    await controller.start();
    await clock.advance(10_000);
    expect(calls.map((c) => c.at - calls[0]!.at)).toEqual([0, 1_000, 2_000]);
    await controller.stop();
  });

  it('queues every key again each resync period', async () => {
    const { clock, calls, controller } = setup(async () => done(), { resyncMs: 60_000 });
    await controller.start();
    await clock.advance(180_000);
    expect(calls.map((c) => c.at - calls[0]!.at)).toEqual([0, 60_000, 120_000, 180_000]);
    await controller.stop();
  });

  it('reconciles a new object and a child change before a resync pass over many stored ones', async () => {
    const pods = source(PODS);
    const stored = Array.from({ length: 50 }, (_, i) => obj(SESSIONS, `old-${i}`));
    const { clock, sessions, calls, controller } = setup(
      (req, call) => new Promise((resolve) => clock.after(10, () => resolve(req.name === 'a' && call === 1 ? requeueAfter(5) : done()))),
      { owns: [pods], concurrency: 1 },
    );
    sessions.store.replace([obj(SESSIONS, 'a'), ...stored]);
    await controller.start();
    await clock.advance(10);
    // The initial pass is a resync: once the run in flight ends, a pod of a session in course, a requested
    // requeue and a new session come first.
    sessions.store.apply('ADDED', obj(SESSIONS, 'new'));
    const owner = { apiVersion: SESSIONS.apiVersion, kind: SESSIONS.kind, name: 'old-40', uid: 'u', controller: true };
    pods.store.apply('ADDED', obj(PODS, 'old-40-pod', { ownerReferences: [owner] }));
    await clock.advance(40);
    expect(calls.slice(0, 5).map((c) => c.key)).toEqual(['ns/a', 'ns/old-0', 'ns/old-40', 'ns/a', 'ns/new']);
    await clock.advance(2_000);
    const keys = new Set(calls.map((c) => c.key));
    expect(keys.size).toBe(52);
    await controller.stop();
  });

  it('queues no key for an update its updateMatters turns away, but always for adds and deletes', async () => {
    const { clock, sessions, calls, controller } = setup(async () => done(), { updateMatters: changedBeyondStatus });
    await controller.start();
    await clock.advance(0);
    calls.length = 0;
    const a = sessions.store.get('ns', 'a')!;
    sessions.store.apply('MODIFIED', { ...a, metadata: { ...a.metadata, resourceVersion: '100' }, status: { phase: 'Running' } } as KubeObject);
    await clock.advance(0);
    expect(calls).toHaveLength(0);
    sessions.store.apply('MODIFIED', { ...a, metadata: { ...a.metadata, resourceVersion: '101', annotations: { stop: 'now' } } });
    sessions.store.apply('ADDED', obj(SESSIONS, 'b'));
    await clock.advance(0);
    sessions.store.apply('DELETED', obj(SESSIONS, 'b'));
    await clock.advance(0);
    expect(calls.map((c) => c.key)).toEqual(['ns/a', 'ns/b', 'ns/b']);
    await controller.stop();
  });

  it('tells a status-only change (with its version and managed fields) from any other', () => {
    const base = { apiVersion: 'v1', kind: 'X', metadata: { name: 'a', resourceVersion: '1', generation: 1, finalizers: ['f'] }, spec: { a: 1 }, status: { x: 1 } };
    const bump = (m: object, rest: object = {}) => ({ ...base, ...rest, metadata: { ...base.metadata, resourceVersion: '2', ...m } });
    expect(changedBeyondStatus(bump({ managedFields: [{ manager: 'm' }] }, { status: { x: 2 } }), base)).toBe(false);
    expect(changedBeyondStatus(bump({ generation: 2 }, { spec: { a: 2 } }), base)).toBe(true);
    expect(changedBeyondStatus(bump({ finalizers: [] }), base)).toBe(true);
    expect(changedBeyondStatus(bump({ deletionTimestamp: '2026-01-01T00:00:00Z' }), base)).toBe(true);
    expect(changedBeyondStatus(bump({ annotations: { a: 'b' } }), base)).toBe(true);
  });

  it('leaves out of a resync pass the keys reconciled in the last half period, never for longer', async () => {
    const { clock, sessions, calls, controller } = setup(async () => done(), { resyncMs: 60_000 });
    await controller.start();
    await clock.advance(50_000);
    const a = sessions.store.get('ns', 'a')!;
    sessions.store.apply('MODIFIED', { ...a, metadata: { ...a.metadata, resourceVersion: '900', labels: { x: 'y' } } });
    await clock.advance(70_000);
    // 0: the initial pass; 50 s: the change; 60 s: the pass leaves it out (10 s old); 120 s: the next one does not.
    expect(calls.map((c) => c.at - calls[0]!.at)).toEqual([0, 50_000, 120_000]);
    await controller.stop();
  });

  it('lets I/O callbacks run during a pass of reconciles that never wait for I/O', async () => {
    const busy = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    const { sessions, calls, controller } = setup(async () => {
      busy(2);
      return done();
    }, { concurrency: 4 });
    sessions.store.replace(Array.from({ length: 100 }, (_, i) => obj(SESSIONS, `s-${i}`)));
    let seenAt: number | undefined;
    await controller.start();
    setImmediate(() => (seenAt = calls.length));
    while (calls.length < 100) await new Promise((resolve) => setImmediate(resolve));
    // 100 reconciles of 2 ms each: an I/O callback queued at the start runs after about 20 ms of them, not after all.
    expect(seenAt).toBeDefined();
    expect(seenAt!).toBeLessThan(50);
    await controller.stop();
  });

  it('drains in-flight reconciles on stop, and gives up after the grace period', async () => {
    const slow = setup(async () => new Promise<ReconcileResult>((resolve) => slow.clock.after(5_000, () => resolve(done()))));
    await slow.controller.start();
    await slow.clock.advance(0);
    let drained: boolean | undefined;
    void slow.controller.stop(10_000).then((d) => (drained = d));
    await slow.clock.advance(5_000);
    expect(drained).toBe(true);

    const stuck = setup(() => new Promise<ReconcileResult>(() => undefined));
    await stuck.controller.start();
    await stuck.clock.advance(0);
    let gaveUp: boolean | undefined;
    void stuck.controller.stop(10_000).then((d) => (gaveUp = d));
    await stuck.clock.advance(10_000);
    await flushPromises();
    expect(gaveUp).toBe(false);
  });
});

describe('ownerKeys', () => {
  const owner = (name: string, extra = {}) => ({ apiVersion: 'panalysis.example/v2', kind: 'AnalysisSession', name, uid: name, controller: true, ...extra });
  const pod = (refs: object[]): KubeObject => ({ metadata: { name: 'p', namespace: 'ns', ownerReferences: refs as never } });
  it('matches kind and group, ignoring the version', () => {
    expect(ownerKeys(SESSIONS, pod([owner('s')]))).toEqual(['ns/s']);
    expect(ownerKeys(SESSIONS, pod([{ ...owner('s'), apiVersion: 'other.example/v1' }]))).toEqual([]);
    expect(ownerKeys(SESSIONS, pod([owner('s', { controller: false })]))).toEqual([]);
  });
  it('returns old and new owners when the controller reference changed', () => {
    expect(ownerKeys(SESSIONS, pod([owner('new')]), pod([owner('old')]))).toEqual(['ns/new', 'ns/old']);
  });
  it('keys cluster-scoped owners by name', () => {
    expect(ownerKeys({ ...SESSIONS, namespaced: false }, pod([owner('s')]))).toEqual(['s']);
  });
});

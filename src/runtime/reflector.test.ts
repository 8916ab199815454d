// SPDX-License-Identifier: Apache-2.0
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Reflector, type ReflectorOptions } from './reflector.ts';
import type { KubeObject, ResourceType } from './resource.ts';
import type { ChangeType } from './store.ts';
import { FakeClock } from './testing/fake-clock.ts';
import { FakeListWatch } from './testing/fake-list-watch.ts';

const PODS: ResourceType = { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true };
const pod = (name: string, image = 'a'): KubeObject & { spec: { image: string } } => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'ns' },
  spec: { image },
});

let running: Array<Reflector<KubeObject>> = [];
afterEach(async () => {
  await Promise.all(running.map((r) => r.stop()));
  running = [];
});

function setup(overrides: Partial<ReflectorOptions<KubeObject>> = {}) {
  const clock = new FakeClock();
  const source = new FakeListWatch<KubeObject>();
  const reflector = new Reflector<KubeObject>({ spec: { resource: PODS }, source, clock, random: () => 0.5, ...overrides });
  const events: Array<[ChangeType, string, string | undefined]> = [];
  reflector.store.onChange((type, obj) => events.push([type, obj.metadata?.name ?? '', obj.metadata?.resourceVersion]));
  running.push(reflector);
  return { clock, source, reflector, events };
}

const rvOf = (r: Reflector<KubeObject>, name: string): string | undefined =>
  r.store.get('ns', name)?.metadata?.resourceVersion;

describe('Reflector', () => {
  it('lists in pages, then watches from the list resourceVersion with bookmarks and a jittered timeout', async () => {
    const { clock, source, reflector } = setup({ pageSize: 2 });
    for (const name of ['a', 'b', 'c', 'd', 'e']) source.upsert(pod(name));
    reflector.start();
    expect(await reflector.waitForSync()).toBe(true);
    await clock.advance(0);
    expect(reflector.store.list()).toHaveLength(5);
    expect(reflector.store.get('ns', 'a')?.kind).toBe('Pod');
    expect(source.watchRequests).toEqual([{ resourceVersion: '105', timeoutSeconds: 450 }]);
    source.upsert(pod('f'));
    expect(rvOf(reflector, 'f')).toBe('106');
  });

  it('asks for the next page before it transforms the one it has, and only for pages that exist', async () => {
    const seen: number[] = [];
    const { source, reflector } = setup({ pageSize: 2, transform: (o) => (seen.push(source.listCalls), o) });
    for (const name of ['a', 'b', 'c', 'd', 'e']) source.upsert(pod(name));
    reflector.start();
    expect(await reflector.waitForSync()).toBe(true);
    expect(seen).toEqual([2, 2, 3, 3, 3]);
    expect(source.listCalls).toBe(3);
  });

  it('retries a relist whose transform failed while the next page was asked for, and that page\'s failure goes unheard', async () => {
    let fail = true;
    const transform = (o: KubeObject): KubeObject => {
      if (fail) {
        fail = false;
        throw new Error('transform failed');
      }
      return o;
    };
    const { clock, source, reflector } = setup({ pageSize: 2, transform });
    for (const name of ['a', 'b', 'c']) source.upsert(pod(name));
    const list = source.list.bind(source);
    let calls = 0;
    source.list = async (options) => {
      calls += 1;
      if (calls === 2) throw new Error('the prefetched page failed');
      return list(options);
    };
    reflector.start();
    await clock.advance(0);
    await clock.advance(5_000);
    expect(await reflector.waitForSync()).toBe(true);
    expect(reflector.store.list().map((o) => o.metadata?.name).sort()).toEqual(['a', 'b', 'c']);
    expect(reflector.stats.errors).toBeGreaterThanOrEqual(1);
  });

  it('strips managedFields and applies the transform to listed and watched objects before the store keeps them', async () => {
    const transform = (o: KubeObject): KubeObject => ({ ...o, spec: { image: `slim-${(o as ReturnType<typeof pod>).spec.image}` } }) as KubeObject;
    const { clock, source, reflector } = setup({ transform });
    source.upsert({ ...pod('a'), metadata: { name: 'a', namespace: 'ns', managedFields: [{ manager: 'm' }] } });
    reflector.start();
    await reflector.waitForSync();
    await clock.advance(0);
    source.upsert(pod('b', 'x'));
    const a = reflector.store.get('ns', 'a') as ReturnType<typeof pod>;
    expect(a.metadata).not.toHaveProperty('managedFields');
    expect(a.spec.image).toBe('slim-a');
    expect((reflector.store.get('ns', 'b') as ReturnType<typeof pod>).spec.image).toBe('slim-x');
  });

  it('resumes from the last resourceVersion (bookmarks included) after a normal close', async () => {
    const { clock, source, reflector } = setup();
    source.upsert(pod('a'));
    reflector.start();
    await clock.advance(0);
    await clock.advance(5_000);
    source.upsert(pod('other'));
    source.remove('ns', 'other');
    source.bookmark();
    source.closeWatches();
    await clock.advance(0);
    expect(source.listCalls).toBe(1);
    expect(source.watchRequests.map((w) => w.resourceVersion)).toEqual(['101', '103']);
  });

  it.each(['http', 'event'] as const)('relists after 410 (%s) and reports what changed in the gap', async (mode) => {
    const { clock, source, reflector, events } = setup();
    source.goneMode = mode;
    source.upsert(pod('kept'));
    source.upsert(pod('changed'));
    source.upsert(pod('deleted'));
    reflector.start();
    await clock.advance(0);
    source.stalled = true;
    source.upsert(pod('changed', 'b'));
    source.remove('ns', 'deleted');
    source.upsert(pod('added'));
    source.compact();
    source.stalled = false;
    if (mode === 'event') source.expireWatches();
    else source.closeWatches();
    await clock.advance(5_000);
    expect(reflector.stats.relistsAfterGone).toBe(1);
    expect(source.listCalls).toBe(2);
    expect(events.slice(3)).toEqual([
      ['MODIFIED', 'changed', '104'],
      ['ADDED', 'added', '106'],
      ['DELETED', 'deleted', '103'],
    ]);
    source.upsert(pod('later'));
    expect(rvOf(reflector, 'later')).toBe('107');
  });

  it('restarts a silent watch from the last resourceVersion and catches up', async () => {
    const { clock, source, reflector } = setup({ watchdogMs: 60_000 });
    reflector.start();
    await clock.advance(0);
    source.stalled = true;
    source.upsert(pod('missed'));
    await clock.advance(59_000);
    expect(reflector.stats.watchdogRestarts).toBe(0);
    source.stalled = false;
    await clock.advance(1_000);
    expect(reflector.stats.watchdogRestarts).toBe(1);
    expect(source.listCalls).toBe(1);
    expect(source.watchRequests.at(-1)?.resourceVersion).toBe('100');
    expect(rvOf(reflector, 'missed')).toBe('101');
  });

  it('counts bookmarks as activity', async () => {
    const { clock, source, reflector } = setup({ watchdogMs: 90_000 });
    reflector.start();
    for (let minute = 0; minute < 10; minute++) {
      await clock.advance(60_000);
      source.bookmark();
    }
    expect(reflector.stats.watchdogRestarts).toBe(0);
    expect(source.watchRequests).toHaveLength(1);
  });

  it('retries a failed list with backoff and stops promptly while waiting', async () => {
    const { clock, source, reflector } = setup();
    source.failNextList = new Error('connection refused');
    reflector.start();
    await clock.advance(0);
    expect(reflector.hasSynced()).toBe(false);
    expect(reflector.stats.errors).toBe(1);
    await clock.advance(1_000);
    expect(reflector.hasSynced()).toBe(true);
    source.failNextList = new Error('again');
    await reflector.stop();
    expect(source.openWatches()).toBe(0);
  });

  it('backs off when watches close at once without events', async () => {
    const { clock, source, reflector } = setup();
    reflector.start();
    for (let elapsed = 0; elapsed < 60_000; elapsed += 250) {
      source.closeWatches();
      await clock.advance(250);
    }
    expect(source.watchRequests.length).toBeGreaterThan(3);
    expect(source.watchRequests.length).toBeLessThan(10);
  });

  it('backs off relists when every watch is answered with an in-stream 410', async () => {
    const { clock, source, reflector } = setup();
    source.goneMode = 'event';
    source.alwaysGone = true;
    reflector.start();
    await clock.advance(60_000);
    expect(source.listCalls).toBeGreaterThan(2);
    expect(source.listCalls).toBeLessThan(12);
  });

  it('reports no sync when stopped before the first list', async () => {
    const { reflector } = setup();
    const synced = reflector.waitForSync();
    await reflector.stop();
    expect(await synced).toBe(false);
  });
});

type Op =
  | { op: 'upsert'; name: string; image: string }
  | { op: 'remove'; name: string }
  | { op: 'compact' | 'close' | 'expire' | 'stall' | 'unstall' }
  | { op: 'wait'; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('upsert' as const), name: fc.constantFrom('a', 'b', 'c'), image: fc.constantFrom('x', 'y') }),
  fc.record({ op: fc.constant('remove' as const), name: fc.constantFrom('a', 'b', 'c') }),
  fc.record({ op: fc.constantFrom('compact' as const, 'close' as const, 'expire' as const, 'stall' as const, 'unstall' as const) }),
  fc.record({ op: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 200_000 }) }),
);

describe('Reflector properties', () => {
  it('ends with the server state and listener events that replay to it, whatever fails in between', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 30 }), fc.constantFrom('http', 'event'), async (ops, goneMode) => {
        const { clock, source, reflector } = setup({ watchdogMs: 120_000 });
        source.goneMode = goneMode as 'http' | 'event';
        const replayed = new Map<string, string | undefined>();
        reflector.store.onChange((type, obj) => {
          if (type === 'DELETED') replayed.delete(obj.metadata?.name ?? '');
          else replayed.set(obj.metadata?.name ?? '', obj.metadata?.resourceVersion);
        });
        reflector.start();
        for (const op of ops) {
          if (op.op === 'upsert') source.upsert(pod(op.name, op.image));
          else if (op.op === 'remove') source.remove('ns', op.name);
          else if (op.op === 'compact') source.compact();
          else if (op.op === 'close') source.closeWatches();
          else if (op.op === 'expire') source.expireWatches();
          else if (op.op === 'stall') source.stalled = true;
          else if (op.op === 'unstall') source.stalled = false;
          else if (op.op === 'wait') await clock.advance(op.ms);
        }
        source.stalled = false;
        await clock.advance(200_000);
        const server = await source.list({ limit: 100 });
        const want = new Map(server.items.map((o) => [o.metadata?.name ?? '', o.metadata?.resourceVersion]));
        const have = new Map(reflector.store.list().map((o) => [o.metadata?.name ?? '', o.metadata?.resourceVersion]));
        expect(have).toEqual(want);
        expect(replayed).toEqual(want);
        await reflector.stop();
      }),
      { numRuns: 80 },
    );
  });
});

// SPDX-License-Identifier: Apache-2.0
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WorkQueue, type Lane } from './queue.ts';
import { ExponentialRateLimiter, TokenBucketRateLimiter, defaultRateLimiter } from './rate-limiter.ts';
import { FakeClock, flushPromises } from './testing/fake-clock.ts';

function newQueue(clock = new FakeClock()): { clock: FakeClock; queue: WorkQueue } {
  return { clock, queue: new WorkQueue({ clock }) };
}

describe('WorkQueue', () => {
  it('de-duplicates keys that are queued', async () => {
    const { queue } = newQueue();
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(queue.len()).toBe(2);
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBe('b');
  });

  it('runs a key re-added while processing exactly once more, after done', async () => {
    const { queue } = newQueue();
    queue.add('a');
    const key = await queue.get();
    queue.add('a');
    queue.add('a');
    expect(queue.len()).toBe(0);
    queue.done(key!);
    expect(queue.len()).toBe(1);
    expect(await queue.get()).toBe('a');
    queue.done('a');
    expect(queue.len()).toBe(0);
  });

  it('tells how long each key waited, from its first add (also during its previous run) to a worker taking it', async () => {
    const clock = new FakeClock();
    const waits: number[] = [];
    const queue = new WorkQueue({ clock, onWait: (ms) => waits.push(ms) });
    const first = queue.get();
    queue.add('a');
    expect(await first).toBe('a');
    await clock.advance(1_000);
    queue.add('a');
    await clock.advance(500);
    queue.add('a');
    await clock.advance(2_000);
    queue.done('a');
    queue.add('b');
    await clock.advance(250);
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBe('b');
    expect(waits).toEqual([0, 2_750, 250]);
  });

  it('hands a key to a waiting getter', async () => {
    const { queue } = newQueue();
    const pending = queue.get();
    queue.add('x');
    expect(await pending).toBe('x');
    expect(queue.processing()).toBe(1);
  });

  it('keeps the earliest of several addAfter requests', async () => {
    const { clock, queue } = newQueue();
    queue.addAfter('a', 10_000);
    queue.addAfter('a', 2_000);
    queue.addAfter('a', 5_000);
    expect(queue.waiting()).toBe(1);
    await clock.advance(1_999);
    expect(queue.len()).toBe(0);
    await clock.advance(1);
    expect(queue.len()).toBe(1);
    await clock.advance(20_000);
    expect(queue.len()).toBe(1);
  });

  it('backs off per key and resets on forget', async () => {
    const { clock, queue } = newQueue();
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const start = clock.now();
      queue.addRateLimited('a');
      while (queue.len() === 0) await clock.advance(100);
      delays.push(clock.now() - start);
      queue.done((await queue.get())!);
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(queue.numRequeues('a')).toBe(4);
    queue.forget('a');
    expect(queue.numRequeues('a')).toBe(0);
  });

  it('hands out follow-ups before changes before resyncs, each lane in order', async () => {
    const { queue } = newQueue();
    for (let i = 0; i < 3000; i++) queue.add(`old-${i}`, 'resync');
    queue.add('new-1');
    queue.add('claim-bound', 'followUp');
    queue.add('new-2', 'change');
    expect(queue.len()).toBe(3003);
    expect(queue.len('resync')).toBe(3000);
    const order: string[] = [];
    for (let i = 0; i < 3003; i++) {
      const key = (await queue.get())!;
      order.push(key);
      queue.done(key);
    }
    expect(order.slice(0, 5)).toEqual(['claim-bound', 'new-1', 'new-2', 'old-0', 'old-1']);
    expect(order.at(-1)).toBe('old-2999');
    expect(queue.len()).toBe(0);
  });

  it('moves a queued key to a better lane, never to a worse one, and hands it out once', async () => {
    const { queue } = newQueue();
    queue.add('a', 'resync');
    queue.add('b', 'resync');
    queue.add('c');
    queue.add('b', 'followUp');
    queue.add('c', 'resync');
    expect(queue.len()).toBe(3);
    const order: string[] = [];
    for (let key = queue.len() > 0 ? await queue.get() : undefined; key !== undefined; key = queue.len() > 0 ? await queue.get() : undefined) {
      order.push(key);
      queue.done(key);
    }
    expect(order).toEqual(['b', 'c', 'a']);
  });

  it('queues a key added during its run in the best lane asked for meanwhile', async () => {
    const { queue } = newQueue();
    queue.add('a');
    const a = (await queue.get())!;
    queue.add('b');
    queue.add('a', 'resync');
    queue.add('a', 'followUp');
    queue.done(a);
    expect(await queue.get()).toBe('a');
  });

  it('adds a delayed key in the best lane of its requests, at the earliest time', async () => {
    const { clock, queue } = newQueue();
    queue.add('x');
    queue.addAfter('a', 5_000, 'followUp');
    queue.addAfter('a', 2_000, 'resync');
    await clock.advance(2_000);
    expect(queue.len('followUp')).toBe(1);
    expect(await queue.get()).toBe('a');
  });

  it('wakes getters with undefined on shutDown and drains in-flight keys', async () => {
    const { queue } = newQueue();
    queue.add('a');
    queue.add('b');
    const first = await queue.get();
    const waiter = queue.get();
    const second = await waiter;
    const idle = queue.get();
    queue.shutDown();
    expect(await idle).toBeUndefined();
    expect(await queue.get()).toBeUndefined();
    queue.add('c');
    expect(queue.len()).toBe(0);
    let drained = false;
    void queue.drain().then(() => (drained = true));
    queue.done(first!);
    await flushPromises();
    expect(drained).toBe(false);
    queue.done(second!);
    await flushPromises();
    expect(drained).toBe(true);
  });
});

describe('rate limiters', () => {
  it('caps the exponential backoff', () => {
    const limiter = new ExponentialRateLimiter(1_000, 300_000);
    const delays = Array.from({ length: 12 }, () => limiter.when('k'));
    expect(delays.slice(0, 3)).toEqual([1_000, 2_000, 4_000]);
    expect(delays.at(-1)).toBe(300_000);
    expect(limiter.when('other')).toBe(1_000);
  });

  it('lets a burst through, then spaces retries at qps', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucketRateLimiter(10, 100, clock);
    const burst = Array.from({ length: 100 }, (_, i) => bucket.when(`k${i}`));
    expect(burst.every((d) => d === 0)).toBe(true);
    expect(bucket.when('x')).toBe(100);
    expect(bucket.when('y')).toBe(200);
    await clock.advance(1_000);
    const refilled = Array.from({ length: 8 }, (_, i) => bucket.when(`r${i}`));
    expect(refilled.every((d) => d === 0)).toBe(true);
    expect(bucket.when('z')).toBe(100);
  });

  it('takes the larger delay of both limiters', () => {
    const clock = new FakeClock();
    const limiter = defaultRateLimiter({ clock, qps: 1, burst: 1 });
    expect(limiter.when('a')).toBe(1_000);
    expect(limiter.when('b')).toBe(1_000);
    expect(limiter.when('c')).toBe(2_000);
  });
});

interface Run {
  readonly key: string;
  readonly start: number;
  readonly end: number;
}

/** Drives `workers` concurrent workers over scheduled adds, each run taking its scheduled duration. */
async function simulate(
  adds: ReadonlyArray<{ key: string; at: number; lane: Lane }>,
  durations: readonly number[],
  workers: number,
): Promise<Run[]> {
  const clock = new FakeClock(0);
  const queue = new WorkQueue({ clock });
  const runs: Run[] = [];
  for (const { key, at, lane } of adds) clock.after(at, () => queue.add(key, lane));
  const worker = async (): Promise<void> => {
    for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
      const start = clock.now();
      await new Promise<void>((resolve) => clock.after(durations[runs.length % durations.length] ?? 1, resolve));
      runs.push({ key, start, end: clock.now() });
      queue.done(key);
    }
  };
  const all = Promise.all(Array.from({ length: workers }, worker));
  await clock.runAll();
  queue.shutDown();
  await all;
  return runs;
}

describe('WorkQueue properties', () => {
  const scenario = fc.record({
    adds: fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd'), at: fc.nat(50), lane: fc.constantFrom<Lane>('followUp', 'change', 'resync') }), { maxLength: 40 }),
    durations: fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 10 }),
    workers: fc.integer({ min: 1, max: 4 }),
  });

  it('never runs one key twice at the same time', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ adds, durations, workers }) => {
        const runs = await simulate(adds, durations, workers);
        for (const a of runs) {
          for (const b of runs) {
            if (a !== b && a.key === b.key) expect(a.end <= b.start || b.end <= a.start).toBe(true);
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  it('processes every add in a run that starts at or after it', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ adds, durations, workers }) => {
        const runs = await simulate(adds, durations, workers);
        for (const add of adds) {
          expect(runs.some((run) => run.key === add.key && run.start >= add.at)).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
  });
});

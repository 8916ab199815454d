// SPDX-License-Identifier: Apache-2.0
import type { Clock, Timer } from '../clock.ts';

interface Scheduled {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/**
 * Lets every promise callback that is ready run, and the code it releases. A macrotask turn drains the microtask
 * queue; a second one runs the work that stepped aside in that turn with `yieldToEventLoop` (a `setImmediate`
 * queued after this one's): a controller's worker yields between keys whenever real time has passed, so one
 * turn would leave it waiting until a later flush, at a later fake time.
 */
export async function flushPromises(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
}

/**
 * A {@link Clock} driven by hand, for deterministic tests.
 *
 * Guarantees: timers fire in time order (ties in scheduling order); between two timers, and after the last one,
 * pending promise callbacks run, so async code reacting to a timer completes before the next timer fires.
 * Caveats: only code that waits through this clock is controlled; real I/O is not.
 */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Scheduled[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  after(ms: number, fn: () => void): Timer {
    const timer: Scheduled = { id: this.#seq++, at: this.#now + Math.max(0, ms), fn };
    this.#timers.push(timer);
    return { cancel: () => void (this.#timers = this.#timers.filter((t) => t !== timer)) };
  }

  /** Number of timers not yet fired or cancelled. */
  pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await flushPromises();
    for (;;) {
      const next = this.#next();
      if (next === undefined || next.at > target) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
      await flushPromises();
    }
    this.#now = target;
    await flushPromises();
  }

  /** Fires timers until none is left or `limitMs` of fake time has passed. */
  async runAll(limitMs = 24 * 3600_000): Promise<void> {
    const deadline = this.#now + limitMs;
    for (;;) {
      const next = this.#next();
      if (next === undefined || next.at > deadline) return;
      await this.advance(next.at - this.#now);
    }
  }

  #next(): Scheduled | undefined {
    let best: Scheduled | undefined;
    for (const t of this.#timers) if (!best || t.at < best.at || (t.at === best.at && t.id < best.id)) best = t;
    return best;
  }
}

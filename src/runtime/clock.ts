// SPDX-License-Identifier: Apache-2.0

/** A scheduled callback that can still be cancelled. */
export interface Timer {
  /** Cancels the callback; a no-op when it already ran or was cancelled. */
  cancel(): void;
}

/**
 * Time as the runtime sees it. Everything that waits (backoff, resync, watchdog, leases) goes through this port so
 * tests can drive time by hand (see `testing/fake-clock.ts`).
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds (0 when negative). */
  after(ms: number, fn: () => void): Timer;
}

/** The wall clock and Node's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  after: (ms, fn) => {
    const handle = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(handle) };
  },
};

/**
 * Resolves after `ms` on `clock`, or early (without rejecting) when `signal` aborts.
 *
 * Guarantees: the timer is cancelled when the signal aborts, so nothing keeps the process alive afterwards.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = (): void => {
      timer.cancel();
      resolve();
    };
    const timer = clock.after(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Exponential backoff with full jitter bounds, used by reconnect loops.
 *
 * Guarantees: `next()` returns values in `[initialMs/2, maxMs]`, doubling per failure until `reset()`.
 */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;
  #failures = 0;

  constructor(initialMs: number, maxMs: number, random: () => number = Math.random) {
    this.#initialMs = initialMs;
    this.#maxMs = maxMs;
    this.#random = random;
  }

  /** The delay before the next attempt; counts one more failure. */
  next(): number {
    const base = Math.min(this.#maxMs, this.#initialMs * 2 ** Math.min(this.#failures, 30));
    this.#failures += 1;
    return Math.min(this.#maxMs, base / 2 + (base / 2) * this.#random());
  }

  /** Forgets past failures. */
  reset(): void {
    this.#failures = 0;
  }
}

/**
 * A clock `offsetMs()` ahead of `base` (negative: behind); timers run on `base`, unchanged.
 * For tests that move the operator's idea of "now" (lifetimes, warnings, retention) without
 * waiting; a production operator uses {@link systemClock}.
 */
export function offsetClock(base: Clock, offsetMs: () => number): Clock {
  return { now: () => base.now() + offsetMs(), after: (ms, fn) => base.after(ms, fn) };
}

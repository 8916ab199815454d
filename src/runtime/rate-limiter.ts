// SPDX-License-Identifier: Apache-2.0
import { systemClock, type Clock } from './clock.ts';

/**
 * Decides how long a key waits before its next retry (client-go `workqueue.TypedRateLimiter`).
 *
 * Assumptions: `when` is called once per retry; `forget` is called when the key succeeded.
 */
export interface RateLimiter {
  /** Delay in milliseconds before the key may run again; records one more retry. */
  when(key: string): number;
  /** Clears the key's retry history (its backoff starts again from the base delay). */
  forget(key: string): void;
  /** How many retries the key has had since the last `forget`. */
  numRequeues(key: string): number;
}

/**
 * Per-key exponential backoff: `baseMs * 2^retries`, capped at `maxMs`.
 *
 * Guarantees: the first retry waits `baseMs`; one key's failures never delay another key.
 */
export class ExponentialRateLimiter implements RateLimiter {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #failures = new Map<string, number>();

  constructor(baseMs = 1_000, maxMs = 300_000) {
    this.#baseMs = baseMs;
    this.#maxMs = maxMs;
  }

  when(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    return Math.min(this.#maxMs, this.#baseMs * 2 ** Math.min(failures, 40));
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }
}

/**
 * An overall token bucket shared by all keys (`qps` tokens per second, at most `burst` saved).
 *
 * Guarantees: over any window of `t` seconds at most `burst + qps * t` retries are let through without delay; a
 * retry that finds the bucket empty is given the delay at which its token will exist (tokens may go negative,
 * like `golang.org/x/time/rate` reservations).
 */
export class TokenBucketRateLimiter implements RateLimiter {
  readonly #qps: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  constructor(qps = 10, burst = 100, clock: Clock = systemClock) {
    this.#qps = qps;
    this.#burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#last = clock.now();
  }

  when(_key: string): number {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) * this.#qps) / 1000);
    this.#last = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens * 1000) / this.#qps);
  }

  forget(_key: string): void {}

  numRequeues(_key: string): number {
    return 0;
  }
}

/** The longest delay of several limiters (client-go `MaxOfRateLimiter`). */
export class MaxOfRateLimiter implements RateLimiter {
  readonly #limiters: readonly RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.#limiters = limiters;
  }

  when(key: string): number {
    return Math.max(0, ...this.#limiters.map((limiter) => limiter.when(key)));
  }

  forget(key: string): void {
    for (const limiter of this.#limiters) limiter.forget(key);
  }

  numRequeues(key: string): number {
    return Math.max(0, ...this.#limiters.map((limiter) => limiter.numRequeues(key)));
  }
}

/** Options of {@link defaultRateLimiter}; every field has the default shown. */
export interface RateLimiterOptions {
  /** First retry delay; 1 s. */
  readonly baseDelayMs?: number;
  /** Longest per-key delay; 5 min. */
  readonly maxDelayMs?: number;
  /** Overall retries per second; 10. */
  readonly qps?: number;
  /** Overall burst; 100. */
  readonly burst?: number;
  readonly clock?: Clock;
}

/**
 * Per-key exponential backoff (1 s doubling to 5 min) under an overall token bucket (10 qps, burst 100).
 * The per-key base is 1 s rather than client-go's 5 ms, which retries far too hard (Kubeflow does the same).
 */
export function defaultRateLimiter(options: RateLimiterOptions = {}): RateLimiter {
  return new MaxOfRateLimiter(
    new ExponentialRateLimiter(options.baseDelayMs ?? 1_000, options.maxDelayMs ?? 300_000),
    new TokenBucketRateLimiter(options.qps ?? 10, options.burst ?? 100, options.clock ?? systemClock),
  );
}

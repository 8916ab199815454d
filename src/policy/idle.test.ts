// SPDX-License-Identifier: Apache-2.0
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideIdle } from './idle.ts';
import type { IdlePolicy } from './idle.ts';

const H = 3_600_000;
const M = 60_000;
const T0 = Date.UTC(2026, 11, 1, 8, 0, 0);
const policy: IdlePolicy = { timeoutMs: 2 * H, maxTimeoutMs: 8 * H, gpuTimeoutMs: 30 * M, warnBeforeMs: 10 * M, field: 'lifecycle.idle' };

describe('idle culling', () => {
  it('warns before the timeout and stops at it, counting from the last activity', () => {
    const input = { gpus: 0, runStartedAt: T0, lastActivity: T0 + H };
    expect(decideIdle({ ...input, now: T0 + 2 * H }, policy)).toEqual({ timeoutMs: 2 * H, idleSince: T0 + H, nextCheckAt: T0 + 3 * H - 10 * M });
    const warned = decideIdle({ ...input, now: T0 + 3 * H - 10 * M }, policy);
    expect(warned.stop).toBeUndefined();
    expect(warned.warning).toMatchObject({ status: 'True', reason: 'IdleSoon', message: 'No activity since 2026-12-01T09:00:00Z: the session stops at 2026-12-01T11:00:00Z (idle timeout 2h) unless it is used.' });
    expect(warned.nextCheckAt).toBe(T0 + 3 * H);
    const stopped = decideIdle({ ...input, now: T0 + 3 * H }, policy);
    expect(stopped.stop).toEqual({ reason: 'IdleTimeout', message: 'The session had no activity since 2026-12-01T09:00:00Z and was stopped after its idle timeout of 2h; open it to start it again on the same home.' });
    expect(stopped.nextCheckAt).toBeUndefined();
  });

  it('counts a run as active from its start, whatever activity came before it', () => {
    expect(decideIdle({ gpus: 0, runStartedAt: T0 + 5 * H, lastActivity: T0, now: T0 + 6 * H }, policy).stop).toBeUndefined();
    expect(decideIdle({ gpus: 0, runStartedAt: T0 + 5 * H, lastActivity: T0, now: T0 + 7 * H }, policy).stop?.reason).toBe('IdleTimeout');
  });

  it('lifts a stop when new activity comes (opening the session)', () => {
    const input = { gpus: 0, runStartedAt: T0, lastActivity: T0, now: T0 + 10 * H };
    expect(decideIdle(input, policy).stop).toBeDefined();
    expect(decideIdle({ ...input, lastActivity: T0 + 10 * H - M }, policy).stop).toBeUndefined();
  });

  it("takes the session's own timeout within the maximum, and refuses one above it by name", () => {
    expect(decideIdle({ gpus: 0, idleTimeout: '30m', runStartedAt: T0, now: T0 + 31 * M }, policy).stop).toBeDefined();
    expect(decideIdle({ gpus: 0, idleTimeout: '12h', runStartedAt: T0, now: T0 }, policy)).toEqual({
      refusal: { reason: 'IdleTimeoutAboveLimit', message: 'spec.idleTimeout: 12h is above the maximum of 8h (lifecycle.idle.maxTimeout); ask for at most 8h.' },
    });
  });

  it('gives sessions with GPUs the shorter GPU timeout, also over their own', () => {
    const gpu = decideIdle({ gpus: 1, idleTimeout: '4h', runStartedAt: T0, now: T0 + 30 * M }, policy);
    expect(gpu.timeoutMs).toBe(30 * M);
    expect(gpu.stop?.message).toContain('idle timeout of 30m for sessions with GPUs (lifecycle.idle.gpuTimeout)');
    expect(decideIdle({ gpus: 0, idleTimeout: '4h', runStartedAt: T0, now: T0 + 30 * M }, policy).stop).toBeUndefined();
  });

  it('culls nothing without a timeout, a run or any activity', () => {
    expect(decideIdle({ gpus: 0, runStartedAt: T0, now: T0 + 100 * H }, { warnBeforeMs: 0, field: 'lifecycle.idle' })).toEqual({});
    expect(decideIdle({ gpus: 0, now: T0 + 100 * H }, policy)).toEqual({ timeoutMs: 2 * H });
  });

  it('never stops a session that had activity within its timeout (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 48 * H }), fc.integer({ min: 0, max: 48 * H }), fc.integer({ min: 0, max: 48 * H }), fc.integer({ min: 0, max: 2 }),
      (start, act, later, gpus) => {
        const now = T0 + Math.max(start, act) + later;
        const d = decideIdle({ gpus, runStartedAt: T0 + start, lastActivity: T0 + act, now }, policy);
        const timeout = gpus > 0 ? 30 * M : 2 * H;
        expect(d.stop !== undefined).toBe(now - (T0 + Math.max(start, act)) >= timeout);
        if (d.stop === undefined && d.nextCheckAt !== undefined) expect(d.nextCheckAt).toBeGreaterThan(now);
      }));
  });
});

// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { noopLogger } from '../runtime/log.ts';
import { FakeKube } from '../runtime/testing/fake-kube.ts';
import { ActivityRecorder, LAST_ACTIVITY_ANNOTATION } from './activity.ts';

function setup() {
  let now = Date.UTC(2026, 11, 1, 10, 0, 0);
  const kube = new FakeKube();
  kube.seed({ apiVersion: 'panalysis.io/v1alpha1', kind: 'AnalysisSession', metadata: { name: 'nb', namespace: 'p1' }, spec: { user: 'alice' } } as never);
  const rec = new ActivityRecorder(kube, noopLogger, 60_000, () => now);
  return { kube, rec, advance: (ms: number) => (now += ms), annotation: async () => (await kube.get({ apiVersion: 'panalysis.io/v1alpha1', kind: 'AnalysisSession', namespace: 'p1', name: 'nb' }))?.metadata?.annotations?.[LAST_ACTIVITY_ANNOTATION] };
}

describe('activity recording', () => {
  it('writes at most once a minute per session however many requests come', async () => {
    const { kube, rec, advance, annotation } = setup();
    for (let i = 0; i < 500; i++) {
      rec.touch('p1', 'nb');
      advance(100);
      await rec.flush();
    }
    // 50 s of requests: the first flush wrote, the rest waited for the minute.
    expect(kube.writes.apply).toBe(1);
    expect(await annotation()).toBe('2026-12-01T10:00:00Z');
    advance(10_200);
    rec.touch('p1', 'nb');
    await rec.flush();
    expect(kube.writes.apply).toBe(2);
    expect(await annotation()).toBe('2026-12-01T10:01:00Z');
    await rec.stop();
  });

  it('keeps the latest of the activity times it is told, never one in the future', async () => {
    const { rec, advance, annotation } = setup();
    rec.touchAt('p1', 'nb', Date.UTC(2026, 11, 1, 9, 30, 0));
    rec.touchAt('p1', 'nb', Date.UTC(2026, 11, 1, 9, 0, 0));
    expect(rec.lastSeen('p1', 'nb')).toBe(Date.UTC(2026, 11, 1, 9, 30, 0));
    rec.touchAt('p1', 'nb', Date.UTC(2026, 11, 1, 11, 0, 0));
    expect(rec.lastSeen('p1', 'nb')).toBe(Date.UTC(2026, 11, 1, 10, 0, 0));
    advance(1000);
    await rec.flush();
    expect(await annotation()).toBe('2026-12-01T10:00:00Z');
    await rec.stop();
  });

  it('writes nothing without new activity, and forgets a deleted session', async () => {
    const { kube, rec, advance } = setup();
    rec.touch('p1', 'nb');
    await rec.flush();
    advance(120_000);
    await rec.flush();
    expect(kube.writes.apply).toBe(1);
    rec.touch('p1', 'gone');
    await rec.stop();
    expect(rec.lastSeen('p1', 'nb')).toBeDefined();
  });
});

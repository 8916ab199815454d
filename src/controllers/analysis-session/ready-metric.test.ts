// SPDX-License-Identifier: Apache-2.0
/**
 * panalysis_session_ready_seconds: a session's first Ready is observed once, by profile,
 * from its creation (or a later run's admission).
 */
import { describe, expect, it } from 'vitest';
import type { AnalysisSession } from '../../api/v1alpha1/analysis-session.ts';
import { MetricsRegistry } from '../../runtime/metrics.ts';
import type { KubeObject } from '../../runtime/resource.ts';
import { fakeSessionDeps } from '../../../test/fixtures/session-deps.ts';
import { reconcileSession } from './reconcile.ts';
import { readySeconds, sessionReadyMetric } from './ready-metric.ts';

const NS = 'proposal-1';
const NOW = Date.parse('2026-12-01T12:00:00Z');
const session = (name: string, created: string): AnalysisSession => ({
  apiVersion: 'panalysis.io/v1alpha1', kind: 'AnalysisSession',
  metadata: { name, namespace: NS, creationTimestamp: created },
  spec: { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy' },
});

function setup() {
  const metrics = new MetricsRegistry();
  const { kube, deps } = fakeSessionDeps(NOW, { readyMetric: sessionReadyMetric(metrics) });
  const reconcile = (name: string) => reconcileSession({ key: `${NS}/${name}`, namespace: NS, name }, deps);
  /** The kubelet's part: the pod is placed and turns Ready. */
  const podReady = async (name: string) => {
    const pod = (await kube.get<KubeObject & Record<string, any>>({ apiVersion: 'v1', kind: 'Pod', namespace: NS, name }))!;
    kube.seed({ ...pod, spec: { ...pod.spec, nodeName: 'node-1' }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-12-01T11:59:58Z' }] } });
  };
  return { kube, metrics, reconcile, podReady };
}

describe('panalysis_session_ready_seconds', () => {
  it('observes a session once, when its status first turns Ready, from its creation', async () => {
    const { kube, metrics, reconcile, podReady } = setup();
    kube.seed(session('nb', '2026-12-01T11:59:30Z'));
    await reconcile('nb');
    await reconcile('nb');
    await podReady('nb');
    await reconcile('nb');
    const s = await kube.get<AnalysisSession>({ apiVersion: 'panalysis.io/v1alpha1', kind: 'AnalysisSession', namespace: NS, name: 'nb' });
    expect(s?.status?.phase).toBe('Running');
    await reconcile('nb');
    const text = await metrics.render();
    expect(text).toContain('# TYPE panalysis_session_ready_seconds histogram');
    expect(text).toContain('panalysis_session_ready_seconds_bucket{le="20",profile="jupyter-scipy"} 0');
    expect(text).toContain('panalysis_session_ready_seconds_bucket{le="30",profile="jupyter-scipy"} 1');
    expect(text).toContain('panalysis_session_ready_seconds_bucket{le="+Inf",profile="jupyter-scipy"} 1');
    expect(text).toContain('panalysis_session_ready_seconds_sum{profile="jupyter-scipy"} 30');
    expect(text).toContain('panalysis_session_ready_seconds_count{profile="jupyter-scipy"} 1');
  });

  it('counts a Ready status applied again before the cache shows it once, and the next run again', async () => {
    const metrics = new MetricsRegistry();
    const observe = sessionReadyMetric(metrics);
    const stale = { ...session('nb', '2026-12-01T11:59:00Z'), metadata: { ...session('nb', '2026-12-01T11:59:00Z').metadata, uid: 'u1' } };
    observe(stale, { startedAt: '2026-12-01T11:59:58Z' }, NOW);
    observe(stale, { startedAt: '2026-12-01T11:59:58Z' }, NOW);
    observe({ ...stale, status: { startedAt: '2026-12-01T11:59:58Z' } }, { startedAt: '2026-12-01T11:59:58Z' }, NOW);
    observe(stale, { startedAt: '2026-12-01T11:59:58Z', quota: { run: 2, admittedAt: '2026-12-01T11:59:30Z' } }, NOW);
    const text = await metrics.render();
    expect(text).toContain('panalysis_session_ready_seconds_count{profile="jupyter-scipy"} 2');
    expect(text).toContain('panalysis_session_ready_seconds_sum{profile="jupyter-scipy"} 90');
  });

  it('counts a later run a quota admitted from its admission, and nothing for a status already Ready', () => {
    const stored = session('nb', '2026-12-01T08:00:00Z');
    const resumed = { startedAt: '2026-12-01T11:59:58Z', quota: { run: 2, admittedAt: '2026-12-01T11:59:50Z' } };
    expect(readySeconds(stored, resumed, NOW)).toBe(10);
    expect(readySeconds(stored, { ...resumed, quota: { run: 1, admittedAt: '2026-12-01T11:59:50Z' } }, NOW)).toBe(4 * 3600);
    expect(readySeconds({ ...stored, status: { startedAt: '2026-12-01T11:00:00Z' } }, resumed, NOW)).toBeUndefined();
    expect(readySeconds(stored, {}, NOW)).toBeUndefined();
  });
});

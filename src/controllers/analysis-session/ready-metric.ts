// SPDX-License-Identifier: Apache-2.0
/**
 * `panalysis_session_ready_seconds{profile}`: how long a session took from its start to
 * its first Ready, the figure a facility watches when a class or a shift starts at once.
 */
import type { AnalysisSession, AnalysisSessionStatus } from '../../api/v1alpha1/analysis-session.ts';
import type { MetricsRegistry } from '../../runtime/metrics.ts';

/** Seconds; a session start takes seconds to many minutes (image pulls, queues). */
const BUCKETS = [1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1800, 3600];

/** Called with each status applied; observes the run's time to Ready at most once per run. */
export type SessionReadyObserver = (stored: AnalysisSession, written: AnalysisSessionStatus, now: number) => void;

/**
 * The seconds from the start of the session's current run to `now`, when `written` is the
 * status that first reports it Ready (it carries `startedAt`, the stored one does not);
 * `undefined` otherwise. A run starts at the session's creation, or, for a run after the
 * first one a quota admitted, at its admission (`status.quota.admittedAt`).
 * Caveats: a session stopped and started again without a quota counts from its creation.
 */
export function readySeconds(stored: AnalysisSession, written: AnalysisSessionStatus, now: number): number | undefined {
  if (stored.status?.startedAt || !written.startedAt) return undefined;
  const quota = written.quota;
  const from = quota?.admittedAt && (quota.run ?? 1) > 1 ? quota.admittedAt : stored.metadata.creationTimestamp;
  const start = Date.parse(String(from ?? ''));
  return Number.isNaN(start) ? undefined : Math.max(0, (now - start) / 1000);
}

/**
 * Registers the histogram on `registry` and returns the observer the session controller
 * calls after each status it applied. A status applied again before the cache shows the
 * first one (same session, same `startedAt`) is not counted twice; a session is remembered
 * only until the cache shows its `startedAt`.
 */
export function sessionReadyMetric(registry: MetricsRegistry): SessionReadyObserver {
  const histogram = registry.histogram('panalysis_session_ready_seconds', 'Time from a session\'s creation (or its admission, for a later run) to its first Ready, by profile.', ['profile'], BUCKETS);
  const observed = new Map<string, string>();
  return (stored, written, now) => {
    const uid = stored.metadata.uid ?? `${stored.metadata.namespace}/${stored.metadata.name}`;
    if (stored.status?.startedAt) observed.delete(uid);
    const seconds = readySeconds(stored, written, now);
    if (seconds === undefined || observed.get(uid) === written.startedAt) return;
    observed.set(uid, written.startedAt!);
    histogram.observe({ profile: stored.spec.profile }, seconds);
  };
}

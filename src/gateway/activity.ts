// SPDX-License-Identifier: Apache-2.0
/**
 * Coarse activity of sessions as the gateway sees it (requests, open connections, desktop
 * input), for idle culling: kept in memory and written as the annotation
 * `panalysis.io/last-activity` (RFC 3339, seconds) on the AnalysisSession at most once per
 * `intervalMs` per session, by server-side apply of that one field (never a status write,
 * never a write per request). Replicas each write what they saw; the latest time wins
 * within one interval. A failed write is retried at the next flush.
 */
import { API_VERSION, LAST_ACTIVITY_ANNOTATION } from '../api/v1alpha1/group.ts';
import type { KubeClient } from '../runtime/kube.ts';
import { isInvalid, isNotFound } from '../runtime/kube-http.ts';
import type { Logger } from '../runtime/log.ts';

export { LAST_ACTIVITY_ANNOTATION };
const FIELD_MANAGER = 'panalysis-gateway';

/** Records activity and writes it coarsely. */
export class ActivityRecorder {
  readonly #kube: KubeClient;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #seen = new Map<string, number>();
  readonly #written = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;
  #flushing = false;

  constructor(kube: KubeClient, logger: Logger, intervalMs = 60_000, now: () => number = Date.now) {
    this.#kube = kube;
    this.#logger = logger;
    this.#intervalMs = intervalMs;
    this.#now = now;
    this.#timer = setInterval(() => void this.flush(), Math.max(1000, Math.floor(intervalMs / 6)));
    this.#timer.unref();
  }

  /** Notes activity on session `namespace/name` now. */
  touch(namespace: string, name: string): void {
    this.touchAt(namespace, name, this.#now());
  }

  /** Notes activity on session `namespace/name` at `at` (ms), unless later activity is known already. */
  touchAt(namespace: string, name: string, at: number): void {
    const key = `${namespace}/${name}`;
    const seen = this.#seen.get(key);
    if (seen === undefined || at > seen) this.#seen.set(key, Math.min(at, this.#now()));
  }

  /** The last activity seen here, ms (for tests and metrics). */
  lastSeen(namespace: string, name: string): number | undefined {
    return this.#seen.get(`${namespace}/${name}`);
  }

  /** Writes the sessions whose activity is newer than what was written and whose last write is at least one interval old. */
  async flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      const now = this.#now();
      for (const [key, seen] of this.#seen) {
        const written = this.#written.get(key);
        if (written !== undefined && (seen <= written || now - written < this.#intervalMs)) continue;
        const [namespace, name] = key.split('/') as [string, string];
        const at = new Date(seen).toISOString().replace(/\.\d{3}Z$/, 'Z');
        try {
          await this.#kube.apply({ apiVersion: API_VERSION, kind: 'AnalysisSession', metadata: { name, namespace, annotations: { [LAST_ACTIVITY_ANNOTATION]: at } } }, { fieldManager: FIELD_MANAGER });
          this.#written.set(key, now);
        } catch (err) {
          // A deleted session has no activity to keep (apply would try to create it, which its schema refuses); anything else is retried at the next flush.
          if (isNotFound(err) || isInvalid(err)) this.#seen.delete(key);
          else this.#logger.info('Could not record activity', { session: key, error: (err as Error).message });
        }
      }
      for (const [key, seen] of this.#seen) if (now - seen > 24 * 3_600_000) this.#seen.delete(key);
    } finally {
      this.#flushing = false;
    }
  }

  /** Writes what is pending and stops. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}

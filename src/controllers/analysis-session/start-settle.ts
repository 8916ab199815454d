// SPDX-License-Identifier: Apache-2.0
/**
 * When a session's status need not be written yet (pure): while its start goes as it
 * should. Each step of a normal start (claim bound, pod created, placed, starting) would
 * otherwise cost a status write, and each write comes back as a watch event and another
 * reconcile; a start that ends Ready within {@link START_SETTLE_MS} is written once, Ready.
 *
 * The rule: a status is held only when all of these hold:
 * - it reports a start in progress: phase `Pending` or `Starting`, `Ready` not True with a
 *   reason of the normal course (`Scheduling`, `Starting`); any other reason (unschedulable,
 *   no GPU free, image pull failing, a claim not bound after its patience, a conflict, a
 *   refusal, a replacement) is written at once;
 * - the stored status shows nothing else: none yet, or this same start (same
 *   `observedGeneration`, phase `Pending` or `Starting` with such a reason, or `Pending` with
 *   `HomeVolumePending`: the claim has been bound since, and the start goes on as usual); a
 *   resumed or changed session is reported at once;
 * - the quota ledger's part (`status.quota`) is unchanged, so an admission is recorded at once;
 * - the start has not taken long: less than {@link START_SETTLE_MS} since the pod's creation
 *   (or now, when this plan creates it); while the pod waits for its home claim to be bound,
 *   until the claim's patience ends ({@link HOME_VOLUME_PATIENCE_MS}, when the reason turns
 *   `HomeVolumePending` and names the claim): in a burst, binding hundreds of claims takes
 *   the platform tens of seconds, and each step would otherwise be one more write.
 * Past that, the status in progress is written, then the next change (Ready) again.
 */
import type { V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import type { AnalysisSession, AnalysisSessionStatus } from '../../api/v1alpha1/analysis-session.ts';
import { jsonEqual } from '../../json/equal.ts';
import { HOME_VOLUME_PATIENCE_MS } from './home-volume.ts';

/** How long a normal start may go on before its status says so. */
export const START_SETTLE_MS = 5_000;

/** Reasons of the `Ready` condition in the normal course of a start. */
const IN_COURSE = new Set(['Scheduling', 'Starting']);
const STARTING_PHASES = new Set(['Pending', 'Starting']);

function inCourse(status: AnalysisSessionStatus | undefined, reasons: ReadonlySet<string> = IN_COURSE): boolean {
  if (!status || !STARTING_PHASES.has(status.phase ?? '')) return false;
  const ready = status.conditions?.find((c) => c.type === 'Ready');
  return ready !== undefined && ready.status !== 'True' && reasons.has(ready.reason ?? '');
}

/** Reasons a stored status of the same start may have for the next step in course to be held. */
const STORED_IN_COURSE = new Set([...IN_COURSE, 'HomeVolumePending']);

const created = (o: { metadata?: { creationTimestamp?: unknown } } | undefined): number => Date.parse(String(o?.metadata?.creationTimestamp ?? ''));

/** The facts of the start: the session's live pod and its own home claim, if any. */
export interface StartFacts {
  pod?: V1Pod;
  claim?: V1PersistentVolumeClaim;
}

/**
 * How long the status `next` of `s` may wait before it is written (ms, at most
 * {@link START_SETTLE_MS}, or {@link HOME_VOLUME_PATIENCE_MS} while the home claim is bound);
 * undefined: write it now.
 */
export function settleFor(s: AnalysisSession, next: AnalysisSessionStatus, facts: StartFacts, now: number): number | undefined {
  if (s.metadata.deletionTimestamp || !inCourse(next)) return undefined;
  const stored = s.status;
  const storedEmpty = !stored || Object.keys(stored).length === 0;
  if (!storedEmpty && !(stored.observedGeneration === s.metadata.generation && inCourse(stored, STORED_IN_COURSE))) return undefined;
  if (!jsonEqual(stored?.quota ?? null, next.quota ?? null)) return undefined;
  const claimPending = !facts.pod && facts.claim && facts.claim.status?.phase !== 'Bound' && !facts.claim.spec?.volumeName;
  const window = claimPending ? HOME_VOLUME_PATIENCE_MS : START_SETTLE_MS;
  const began = facts.pod ? created(facts.pod) : claimPending ? created(facts.claim) : now;
  if (!Number.isFinite(began)) return undefined;
  const left = began + window - now;
  // A creation time far ahead of the clock (skew) holds nothing.
  return left > 0 && left <= window + START_SETTLE_MS ? Math.min(left, window) : undefined;
}

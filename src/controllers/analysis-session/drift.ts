// SPDX-License-Identifier: Apache-2.0
/**
 * Exact comparison of a session's children with what they should be (pure).
 *
 * Server-side apply only sets the fields our field manager owns: a NetworkPolicy rule or a
 * Secret key added by someone else would survive it. So the parts of a child that decide
 * who reaches what (NetworkPolicy spec, Secret data, the pod's images) are compared
 * exactly with the desired object, and a child that
 * differs is replaced whole (PUT with the live resourceVersion), which removes anything
 * added by hand.
 *
 * A running pod cannot be changed in place, so whether it is replaced is a rule of its own
 * ({@link judgePod}): for a change the user asked for, a security change or a hand edit,
 * never for a new rendering by a newer operator or configuration (that waits for the next
 * start, and the session's RestartPending condition says so).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { differingParts, digest, POD_INPUTS, readPodInputs, runtimeView, securityView } from '../../desired/pod-inputs.ts';
import { POD_SPEC_HASH } from '../../desired/session-pod.ts';
import { jsonEqual } from '../../json/equal.ts';
import type { KubeObject } from '../../runtime/resource.ts';

type Json = Record<string, unknown>;

/** Equal as JSON, an empty array meaning the same as no list (as in the specs compared here). */
const same = (a: unknown, b: unknown): boolean => jsonEqual(a ?? {}, b ?? {}, { emptyListIsAbsent: true });

/** The part of a child that must equal the desired object exactly, by kind; `undefined`: not compared. */
function relevant(kind: string | undefined, obj: Json): unknown {
  if (kind === 'NetworkPolicy') return obj.spec;
  if (kind === 'Secret') return { type: obj.type ?? 'Opaque', data: obj.data ?? {} };
  return undefined;
}

/**
 * The object to PUT when `live` differs from `desired` in the parts compared
 * (NetworkPolicy spec, Secret type and data), or `undefined` when it matches or its
 * kind is not compared. The body is the live object (with its resourceVersion, so a
 * concurrent change makes the PUT fail with 409) with the desired labels and those parts
 * replaced; managedFields are left out.
 */
export function repairOf(desired: KubeObject, live: KubeObject | undefined): KubeObject | undefined {
  if (!live) return undefined;
  const want = relevant(desired.kind, desired as Json);
  if (want === undefined || same(want, relevant(desired.kind, live as Json))) return undefined;
  const { managedFields: _managed, ...metadata } = live.metadata ?? {};
  const body: Json = { ...(live as Json), apiVersion: desired.apiVersion, kind: desired.kind, metadata: { ...metadata, labels: { ...metadata.labels, ...desired.metadata?.labels } } };
  if (desired.kind === 'Secret') {
    delete body.stringData;
    return { ...body, type: (desired as Json).type, data: (desired as Json).data } as KubeObject;
  }
  return { ...body, spec: (desired as Json).spec } as KubeObject;
}

/**
 * True when a live pod runs other images or resources than the desired pod (an image set
 * by hand, an in-place resize).
 */
export function podDiffers(desired: KubeObject, live: KubeObject): boolean {
  return !jsonEqual(runtimeView((desired as V1Pod).spec), runtimeView((live as V1Pod).spec));
}

/**
 * What {@link judgePod} compares of the desired pod's inputs record: its request hash, and its part hashes,
 * asked for only when the pod specs differ (they cost more than building the pod).
 */
export interface WantedInputs {
  readonly request: string;
  parts(): Record<string, string>;
}

/** The inputs of a desired pod that carries its record (built with `record` on). */
function recordedInputs(desired: KubeObject): WantedInputs {
  const inputs = readPodInputs(desired as V1Pod);
  if (!inputs) throw new TypeError(`desired pod ${desired.metadata?.name} has no ${POD_INPUTS} record; give judgePod its inputs`);
  return { request: inputs.request, parts: () => inputs.parts };
}

/** Whether a running pod is replaced, and if not, what of it is out of date. */
export type PodVerdict = { replace: true; why: string } | { replace: false; pending?: string };

/**
 * The replacement rule of a running pod (`live`) against the pod the operator would build
 * now (`desired`). Replaced only
 * - when it was changed by hand (its images or resources no longer match what it was
 *   built with; a pod with no inputs record: no longer match the desired pod),
 * - for security: its uid, gid, groups, claims or their read-only flags and mount paths
 *   differ (access revoked or narrowed, a write window closed),
 * - when the user changed the request (its recorded request hash differs).
 * Anything else (a new operator version or configuration that renders the pod differently)
 * keeps the pod: `pending` says which parts differ; they apply at the next start.
 * `wanted` is the desired pod's inputs; by default read from its record (a pod built without
 * one needs them given).
 */
export function judgePod(desired: KubeObject, live: KubeObject, wanted: WantedInputs = recordedInputs(desired)): PodVerdict {
  const want = desired as V1Pod;
  const have = live as V1Pod;
  const built = readPodInputs(have);
  const tampered = built ? digest(runtimeView(have.spec)) !== built.runtime : podDiffers(desired, live);
  if (tampered) return { replace: true, why: 'its images or resources were changed by hand' };
  if (!jsonEqual(securityView(want.spec), securityView(have.spec))) return { replace: true, why: 'its identity or data access changed' };
  if (built && built.request !== wanted.request) return { replace: true, why: 'the session\'s request changed' };
  if (have.metadata?.annotations?.[POD_SPEC_HASH] === want.metadata?.annotations?.[POD_SPEC_HASH]) return { replace: false };
  const parts = built ? differingParts(built.parts, wanted.parts()) : [];
  const what = parts.length > 0 ? `differs in ${parts.join(', ')}` : 'differs from what the operator builds now';
  return { replace: false, pending: `The running pod ${what}; the change applies at the next start (spec.state: Stopped, then Running), the pod is not restarted for it.` };
}

/** The condition that tells a portal a restart would apply a newer pod configuration. */
export const RESTART_PENDING = 'RestartPending';

/**
 * The RestartPending condition entry for `verdict` (the running pod's; undefined when no pod
 * runs or it is being replaced): True with what differs, False once a condition that was
 * True no longer holds, nothing while it never was.
 */
export function restartPendingEntry(stored: ReadonlyArray<{ type: string; status: string }> | undefined, verdict: PodVerdict | undefined): Array<[string, { status: 'True' | 'False'; reason: string; message: string }]> {
  if (verdict && !verdict.replace && verdict.pending) return [[RESTART_PENDING, { status: 'True', reason: 'ConfigurationChanged', message: verdict.pending }]];
  if (stored?.some((c) => c.type === RESTART_PENDING && c.status === 'True')) return [[RESTART_PENDING, { status: 'False', reason: 'UpToDate', message: 'The pod runs the current configuration.' }]];
  return [];
}

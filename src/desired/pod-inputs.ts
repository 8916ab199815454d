// SPDX-License-Identifier: Apache-2.0
/**
 * What a session pod was built from (pure), recorded in its `panalysis.io/pod-inputs`
 * annotation, so that a later operator (a new version, a new configuration) can tell a
 * change the user asked for or a security change, which replace a running pod, from a
 * change of how pods are rendered, which waits for the next start.
 *
 * - `request`: hash of the parts of the session's spec that shape its pod (type, profile,
 *   desktop, resources, datasets, template); it changes only when someone changes the spec.
 * - `runtime`: hash of each container's name, image and resource amounts as built; a live
 *   pod whose own view no longer matches it was changed by hand (an image set, an in-place
 *   resize).
 * - `parts`: a hash per container, init container, volumes, security context, placement
 *   and the rest of the spec, to say what differs.
 * The security view (identity and claims with their mounts) is read from the live pod's
 * spec itself, not from the annotation, so it holds for pods of any operator version.
 */
import { hash } from 'node:crypto';
import { canonicalJson } from '../json/canonical.ts';
import type { V1Pod } from '@kubernetes/client-node';
import type { AnalysisSessionSpec } from '../api/v1alpha1/analysis-session.ts';
import { parseQuantity } from '../api/quantity.ts';

/** The annotation holding {@link PodInputs} as JSON. */
export const POD_INPUTS = 'panalysis.io/pod-inputs';

export interface PodInputs {
  /** The session's metadata.generation the pod was built at (for people; not compared). */
  generation?: number;
  request: string;
  runtime: string;
  parts: Record<string, string>;
}

type Spec = NonNullable<V1Pod['spec']>;
type Container = Spec['containers'][number];

/** A short SHA-256 of the canonical JSON of `value`. */
export function digest(value: unknown): string {
  return hash('sha256', canonicalJson(value ?? null), 'hex').slice(0, 16);
}

/** Hash of what the user asked for that shapes the pod; lifetime, idle timeout, state and sharing do not. */
export function requestHash(spec: AnalysisSessionSpec): string {
  const { type, profile, desktop, resources, datasets, template } = spec;
  return digest({ type, profile, desktop, resources, datasets, template });
}

/** A quantity as a number, or the text when it does not parse (so it differs from any number). */
function amount(q: string | undefined): number | string | undefined {
  if (q === undefined) return undefined;
  try {
    return parseQuantity(q);
  } catch {
    return q;
  }
}

/** Each container's name, image and resource amounts (compared by value: the apiserver may rewrite `1.5` as `1500m`). */
export function runtimeView(spec: Spec | undefined): unknown[] {
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].map((c: Container) => ({
    name: c.name,
    image: c.image ?? '',
    resources: Object.fromEntries((['requests', 'limits'] as const).map((kind) => [kind, Object.fromEntries(Object.entries(c.resources?.[kind] ?? {}).map(([k, v]) => [k, amount(String(v))]))])),
  }));
}

/**
 * What decides what the pod may read and write: its uid, gid and supplementary groups, and
 * each claim it mounts with the volume's and every mount's read-only flag and path.
 */
export function securityView(spec: Spec | undefined): unknown {
  const ctx = spec?.securityContext ?? {};
  const containers = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
  const claims = (spec?.volumes ?? []).filter((v) => v.persistentVolumeClaim).map((v) => {
    const mounts = containers.flatMap((c) => (c.volumeMounts ?? []).filter((m) => m.name === v.name).map((m) => `${m.mountPath}${m.readOnly === true ? ':ro' : ':rw'}`));
    return { claim: v.persistentVolumeClaim!.claimName, readOnly: v.persistentVolumeClaim!.readOnly === true, mounts: [...new Set(mounts)].sort() };
  });
  return {
    uid: ctx.runAsUser, gid: ctx.runAsGroup, groups: [...new Set(ctx.supplementalGroups ?? [])].sort((a, b) => a - b),
    claims: claims.sort((a, b) => (a.claim < b.claim ? -1 : a.claim > b.claim ? 1 : 0)),
  };
}

/** A hash per part of the pod spec, to say which parts differ. */
export function partsOf(spec: Spec): Record<string, string> {
  const { containers, initContainers, volumes, securityContext, nodeSelector, tolerations, ...rest } = spec;
  const out: Record<string, string> = {};
  for (const c of containers) out[`containers.${c.name}`] = digest(c);
  for (const c of initContainers ?? []) out[`initContainers.${c.name}`] = digest(c);
  out.volumes = digest(volumes);
  out.securityContext = digest(securityContext);
  out.placement = digest({ nodeSelector, tolerations });
  out.pod = digest(rest);
  return out;
}

/** The inputs record of a pod built with `spec` for a session with `sessionSpec` at `generation`. */
export function podInputsOf(sessionSpec: AnalysisSessionSpec, generation: number | undefined, spec: Spec): PodInputs {
  return { ...(generation !== undefined ? { generation } : {}), request: requestHash(sessionSpec), runtime: digest(runtimeView(spec)), parts: partsOf(spec) };
}

/** The inputs record of a live pod; undefined when it has none (built by an older operator) or it does not parse. */
export function readPodInputs(pod: V1Pod): PodInputs | undefined {
  const text = pod.metadata?.annotations?.[POD_INPUTS];
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as PodInputs;
    return typeof v.request === 'string' && typeof v.runtime === 'string' && typeof v.parts === 'object' && v.parts !== null ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Names of the parts whose hashes differ between two records (present in one only included), sorted. */
export function differingParts(a: Record<string, string>, b: Record<string, string>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]).sort();
}

// SPDX-License-Identifier: Apache-2.0
/**
 * Exact comparison of a session's children with what they should be (pure).
 *
 * Server-side apply only sets the fields our field manager owns: a NetworkPolicy rule, a
 * Service selector key or a Secret key added by someone else would survive it. So the
 * parts of a child that decide who reaches what (Service spec, NetworkPolicy spec, Secret
 * data, the pod's images) are compared exactly with the desired object, and a child that
 * differs is replaced whole (PUT with the live resourceVersion), which removes anything
 * added by hand.
 */
import { parseQuantity } from '../../api/quantity.ts';
import { canonicalJson } from '../../runtime/apply-memo.ts';
import type { KubeObject } from '../../runtime/resource.ts';

type Json = Record<string, unknown>;

/** Service spec fields the apiserver allocates or defaults; kept from the live object when a Service is replaced. */
const SERVICE_ALLOCATED = ['clusterIP', 'clusterIPs', 'ipFamilies', 'ipFamilyPolicy'] as const;
/** Service spec fields the apiserver defaults, with their defaults: ignored only while they hold the default. */
const SERVICE_DEFAULTS: Record<string, unknown> = { internalTrafficPolicy: 'Cluster', sessionAffinity: 'None' };

/** `value` without empty arrays (which mean the same as absent in the specs compared here). */
function withoutEmptyLists(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutEmptyLists);
  if (value === null || typeof value !== 'object') return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = withoutEmptyLists(v);
  }
  return out;
}

const same = (a: unknown, b: unknown): boolean => canonicalJson(withoutEmptyLists(a ?? {})) === canonicalJson(withoutEmptyLists(b ?? {}));

function serviceSpecAsDesired(live: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(live)) {
    if ((SERVICE_ALLOCATED as readonly string[]).includes(k)) continue;
    if (k in SERVICE_DEFAULTS && SERVICE_DEFAULTS[k] === v) continue;
    out[k] = v;
  }
  return out;
}

/** The part of a child that must equal the desired object exactly, by kind; `undefined`: not compared. */
function relevant(kind: string | undefined, obj: Json): unknown {
  if (kind === 'Service') return serviceSpecAsDesired((obj.spec as Json | undefined) ?? {});
  if (kind === 'NetworkPolicy') return obj.spec;
  if (kind === 'Secret') return { type: obj.type ?? 'Opaque', data: obj.data ?? {} };
  return undefined;
}

/**
 * The object to PUT when `live` differs from `desired` in the parts compared (Service
 * spec, NetworkPolicy spec, Secret type and data), or `undefined` when it matches or its
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
  const spec = (desired as Json).spec as Json;
  if (desired.kind === 'Service') {
    const liveSpec = ((live as Json).spec as Json | undefined) ?? {};
    const kept = Object.fromEntries(SERVICE_ALLOCATED.filter((k) => liveSpec[k] !== undefined).map((k) => [k, liveSpec[k]]));
    return { ...body, spec: { ...kept, ...spec } } as KubeObject;
  }
  return { ...body, spec } as KubeObject;
}

type Container = { name: string; image?: string; resources?: { requests?: Record<string, string>; limits?: Record<string, string> } };

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
function runtimeView(o: KubeObject): unknown[] {
  const spec = ((o as Json).spec as { containers?: Container[]; initContainers?: Container[] } | undefined) ?? {};
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])].map((c) => ({
    name: c.name,
    image: c.image ?? '',
    resources: Object.fromEntries((['requests', 'limits'] as const).map((kind) => [kind, Object.fromEntries(Object.entries(c.resources?.[kind] ?? {}).map(([k, v]) => [k, amount(v)]))])),
  }));
}

/**
 * True when a live pod runs other images or resources than the desired pod (an image set
 * by hand, an in-place resize); the spec hash annotation covers everything else the
 * operator sets, as pods cannot change it in place.
 */
export function podDiffers(desired: KubeObject, live: KubeObject): boolean {
  return canonicalJson(runtimeView(desired)) !== canonicalJson(runtimeView(live));
}

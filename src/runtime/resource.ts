// SPDX-License-Identifier: Apache-2.0

/** A reference from a dependent to its owner (`metadata.ownerReferences[]`). */
export interface OwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller?: boolean;
  readonly blockOwnerDeletion?: boolean;
}

/** The part of `ObjectMeta` the runtime reads. Other fields pass through untouched. */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  managedFields?: unknown[];
}

/** Any Kubernetes object as plain JSON (no `Date` conversion, no typed models). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

/**
 * Everything needed to build the REST path of a kind. `plural` is the resource name (`pods`, `analysissessions`).
 */
export interface ResourceType {
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

/** Names one object of one kind; `namespace` is absent for cluster-scoped kinds. */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string | undefined;
  readonly name: string;
}

/**
 * The REST path of a collection, an object or a subresource, e.g.
 * `/apis/apps/v1/namespaces/ns/deployments/web/status` or `/api/v1/namespaces`.
 *
 * Assumptions: `namespace` is given only for namespaced kinds (omitted: all namespaces); `name` is required
 * when `subresource` is.
 */
export function resourcePath(type: ResourceType, namespace?: string, name?: string, subresource?: string): string {
  const root = type.apiVersion.includes('/') ? `/apis/${type.apiVersion}` : `/api/${type.apiVersion}`;
  const ns = type.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const obj = name === undefined ? '' : `/${encodeURIComponent(name)}`;
  const sub = subresource === undefined ? '' : `/${subresource}`;
  return `${root}${ns}/${type.plural}${obj}${sub}`;
}

/** The API group of an apiVersion (`''` for the core group). */
export function apiGroup(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** The queue and store key of an object: `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** The key of `obj` (see {@link objectKey}). Assumes `metadata.name` is set. */
export function keyOf(obj: KubeObject): string {
  return objectKey(obj.metadata?.namespace, obj.metadata?.name ?? '');
}

/** Splits a key made by {@link objectKey}. */
export function parseKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** The object reference of `obj`, for the client's `get`, `delete` and `jsonPatch`. */
export function refOf(obj: KubeObject): ObjectRef {
  if (!obj.apiVersion || !obj.kind || !obj.metadata?.name) {
    throw new TypeError('Object needs apiVersion, kind and metadata.name');
  }
  return { apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name };
}

/** The ownerReference with `controller: true`, if any. */
export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((ref) => ref.controller === true);
}

/**
 * An ownerReference marking `owner` as the controller of a dependent (`controller` and `blockOwnerDeletion` set).
 *
 * Assumptions: the dependent lives in the owner's namespace, or the owner is cluster-scoped; Kubernetes garbage
 * collection treats a cross-namespace owner as absent and deletes the dependent.
 */
export function controllerReference(owner: KubeObject): OwnerReference {
  const { apiVersion, kind, name } = refOf(owner);
  const uid = owner.metadata?.uid;
  if (!uid) throw new TypeError(`Owner ${kind} ${name} has no uid yet`);
  return { apiVersion, kind, name, uid, controller: true, blockOwnerDeletion: true };
}

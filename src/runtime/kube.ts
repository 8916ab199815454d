// SPDX-License-Identifier: Apache-2.0
import type { KubeConfig } from '@kubernetes/client-node';
import { hash } from 'node:crypto';
import { jsonEqual } from '../json/equal.ts';
import { ApplyMemo, canonicalJson, containsFields, memoDigest } from './apply-memo.ts';
import { createResourceResolver, type ResourceResolver } from './discovery.ts';
import { createKubeTransport, isNotFound, type KubeTransport } from './kube-http.ts';
import { refOf, resourcePath, type KubeObject, type ObjectRef, type ResourceType } from './resource.ts';

/** Content type of server-side apply (JSON is valid YAML, so the body is sent as JSON). */
export const APPLY_PATCH = 'application/apply-patch+yaml';
/** Content type of RFC 6902 JSON Patch. */
export const JSON_PATCH = 'application/json-patch+json';

/** Options of `apply` and `applyStatus`. */
export interface ApplyOptions {
  /** The field manager owning the applied fields; one per controller. */
  readonly fieldManager: string;
  /** Take over fields owned by other managers; default `true` (a controller is the authority on its fields). */
  readonly force?: boolean;
  /**
   * The object as the caller knows it, instead of the client's cache lookup, for the skip rule: an object the
   * caller created a moment ago and the cache does not show yet (the answer of that create). Only ever what the
   * server answered, never a guess: with it, an apply that would change nothing is not sent.
   */
  readonly live?: KubeObject;
}

/** The outcome of an apply: the server's answer, or that nothing was sent because nothing would change. */
export type ApplyOutcome<T> = { readonly written: true; readonly object: T } | { readonly written: false };

/** One RFC 6902 operation. */
export interface JsonPatchOp {
  readonly op: 'add' | 'remove' | 'replace' | 'test' | 'move' | 'copy';
  readonly path: string;
  readonly value?: unknown;
  readonly from?: string;
}

/** Options of `delete`. */
export interface DeleteOptions {
  readonly propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  /** Delete only that exact object (uid) or state (resourceVersion); a mismatch fails with 409. */
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
  readonly gracePeriodSeconds?: number;
}

/** Options of `list`. */
export interface ListOptions {
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

/** Write requests sent, by verb (attempts, including those that failed). */
export interface WriteCounts {
  apply: number;
  applyStatus: number;
  delete: number;
  patch: number;
  create: number;
  replace: number;
  replaceStatus: number;
}

/**
 * The API port of controllers. Reads (`get`, `list`) go to the API server; reconcilers should read from
 * stores and use these only when a live view matters (e.g. before a destructive action).
 *
 * Guarantees of every implementation: `writes` counts each write request sent; `apply` and `applyStatus` are
 * skipped (no request, `written: false`) exactly under the rule of {@link ApplyMemo}, which makes a resync of
 * a converged object cost zero writes.
 */
export interface KubeClient {
  readonly writes: Readonly<WriteCounts>;
  /** Applies skipped because nothing would change. */
  readonly skipped: Readonly<{ apply: number; applyStatus: number }>;
  /** The object, or `undefined` when it does not exist. */
  get<T extends KubeObject>(ref: ObjectRef): Promise<T | undefined>;
  /** All objects of a kind (all pages). */
  list<T extends KubeObject>(kind: { apiVersion: string; kind: string }, options?: ListOptions): Promise<T[]>;
  /**
   * Server-side apply of `desired` (which needs apiVersion, kind, name and, if namespaced, namespace).
   * Assumptions: `desired` holds only the fields this field manager owns, and no `status` (the main resource
   * ignores it when a status subresource exists, which would defeat the skip rule); use `applyStatus`.
   */
  apply<T extends KubeObject>(desired: T, options: ApplyOptions): Promise<ApplyOutcome<T>>;
  /** Server-side apply of `status` to the `/status` subresource of `ref`. */
  applyStatus<T extends KubeObject>(ref: ObjectRef, status: unknown, options: ApplyOptions): Promise<ApplyOutcome<T>>;
  /** Deletes; resolves `false` when the object was already gone. */
  delete(ref: ObjectRef, options?: DeleteOptions): Promise<boolean>;
  /** JSON Patch; a failed `test` op rejects with 422. */
  jsonPatch<T extends KubeObject>(ref: ObjectRef, ops: readonly JsonPatchOp[]): Promise<T>;
  /** Creates; rejects with 409 when the name is taken. */
  create<T extends KubeObject>(obj: T): Promise<T>;
  /**
   * Creates `desired` as {@link apply} would have written it (the same field manager, the applied-hash annotation)
   * and remembers it, so that applying the same body afterwards, also from a fresh process, writes nothing.
   * Unlike `apply` it never writes over an object that exists: a taken name rejects with 409 and changes nothing.
   */
  createApplied<T extends KubeObject>(desired: T, options: ApplyOptions): Promise<ApplyOutcome<T>>;
  /** Replaces (PUT); with `metadata.resourceVersion` set this is an optimistic update (409 when stale). */
  replace<T extends KubeObject>(obj: T): Promise<T>;
  /**
   * Compare-and-swap of the status subresource: a PUT of `obj.status` to `/status` that
   * succeeds only if the object still has `obj.metadata.resourceVersion` (409 otherwise:
   * re-read and decide again). The gate for decisions that must not race (quota admission).
   * @throws TypeError when `obj.metadata.resourceVersion` is missing (that would be an unconditional write).
   */
  replaceStatus<T extends KubeObject>(obj: T): Promise<T>;
}

/** Read access to cached objects, used for the apply-skip rule. */
export type LiveLookup = (ref: ObjectRef) => KubeObject | undefined;

/** Options of {@link createKubeClient}. */
export interface KubeClientOptions {
  readonly transport: KubeTransport;
  /** Default: the built-in table plus discovery through `transport`. */
  readonly resolver?: ResourceResolver;
  /** Where the live object comes from; without it no apply is ever skipped. */
  readonly live?: LiveLookup;
  readonly memo?: ApplyMemo;
  /**
   * Makes the skip rule survive restarts: applied objects carry this annotation with a hash of the applied body,
   * and an apply is also skipped when the live object carries the hash of the body and contains its fields; a
   * status apply is also skipped when the live status equals the desired status exactly (the controller being
   * the only writer of that status).
   */
  readonly appliedHashAnnotation?: string;
}

/** Hash of an object's canonical JSON (first 16 hex digits of SHA-256). */
export function bodyHash(value: unknown): string {
  return fullHash(value).slice(0, 16);
}

function fullHash(value: unknown): string {
  return hash('sha256', canonicalJson(value), 'hex');
}

/** A client over client-node's HTTP stack for `kc`'s current context (see `createKubeTransport`). */
export function kubeClientFromConfig(kc: KubeConfig, options: Omit<KubeClientOptions, 'transport'> = {}): KubeClient {
  return createKubeClient({ ...options, transport: createKubeTransport(kc) });
}

/**
 * The adapter: real REST paths (`/api/v1/...`, `/apis/<group>/<version>/...`), SSA as `PATCH` with
 * `application/apply-patch+yaml`, `fieldManager`, `force` and `fieldValidation=Strict`; status SSA on `/status`.
 */
export function createKubeClient(options: KubeClientOptions): KubeClient {
  return new TransportKubeClient(options);
}

class TransportKubeClient implements KubeClient {
  readonly writes: WriteCounts = { apply: 0, applyStatus: 0, delete: 0, patch: 0, create: 0, replace: 0, replaceStatus: 0 };
  readonly skipped = { apply: 0, applyStatus: 0 };
  readonly #transport: KubeTransport;
  readonly #resolver: ResourceResolver;
  readonly #live: LiveLookup;
  readonly #memo: ApplyMemo;
  readonly #hashAnnotation: string | undefined;

  constructor(options: KubeClientOptions) {
    this.#hashAnnotation = options.appliedHashAnnotation;
    this.#transport = options.transport;
    this.#resolver = options.resolver ?? createResourceResolver(options.transport);
    this.#live = options.live ?? (() => undefined);
    this.#memo = options.memo ?? new ApplyMemo();
  }

  async get<T extends KubeObject>(ref: ObjectRef): Promise<T | undefined> {
    const path = await this.#path(ref);
    try {
      return await this.#transport.request<T>({ method: 'GET', path });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async list<T extends KubeObject>(kind: { apiVersion: string; kind: string }, options: ListOptions = {}): Promise<T[]> {
    const type = await this.#resolver.resolve(kind.apiVersion, kind.kind);
    const path = resourcePath(type, options.namespace);
    const items: T[] = [];
    let token: string | undefined;
    do {
      const query = { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector, limit: 500, continue: token };
      const page = await this.#transport.request<{ items?: T[]; metadata?: { continue?: string } }>({ method: 'GET', path, query });
      for (const item of page.items ?? []) items.push({ ...item, apiVersion: kind.apiVersion, kind: kind.kind });
      token = page.metadata?.continue || undefined;
    } while (token);
    return items;
  }

  apply<T extends KubeObject>(desired: T, options: ApplyOptions): Promise<ApplyOutcome<T>> {
    const { body, digest } = this.#withHash(desired);
    return this.#apply(refOf(desired), body, undefined, options, digest);
  }

  /**
   * `desired` with the applied-hash annotation, when configured, and the memo digest of that body. The body is
   * a function of `desired`, so the one hash of `desired` stands for both (one canonical rendering per apply).
   */
  #withHash<T extends KubeObject>(desired: T): { body: T; digest: string } {
    if (!this.#hashAnnotation) return { body: desired, digest: memoDigest(desired) };
    const hash = fullHash(desired);
    const annotations = { ...desired.metadata?.annotations, [this.#hashAnnotation]: hash.slice(0, 16) };
    return { body: { ...desired, metadata: { ...desired.metadata, annotations } }, digest: `annotated:${hash}` };
  }

  /** The restart-safe half of the skip rule (see {@link KubeClientOptions.appliedHashAnnotation}). */
  #liveMatches(body: unknown, subresource: 'status' | undefined, live: KubeObject | undefined): boolean {
    if (!this.#hashAnnotation || live === undefined) return false;
    if (subresource === 'status') return jsonEqual((live as { status?: unknown }).status ?? {}, (body as { status?: unknown }).status ?? {});
    const annotation = (body as KubeObject).metadata?.annotations?.[this.#hashAnnotation];
    return annotation !== undefined && live.metadata?.annotations?.[this.#hashAnnotation] === annotation && containsFields(live, body);
  }

  applyStatus<T extends KubeObject>(ref: ObjectRef, status: unknown, options: ApplyOptions): Promise<ApplyOutcome<T>> {
    const body = { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace }, status };
    return this.#apply(ref, body, 'status', options);
  }

  async delete(ref: ObjectRef, options: DeleteOptions = {}): Promise<boolean> {
    const path = await this.#path(ref);
    this.#memo.forget(objectId(ref));
    this.writes.delete += 1;
    const body = { apiVersion: 'v1', kind: 'DeleteOptions', ...options };
    try {
      await this.#transport.request({ method: 'DELETE', path, body });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async jsonPatch<T extends KubeObject>(ref: ObjectRef, ops: readonly JsonPatchOp[]): Promise<T> {
    const path = await this.#path(ref);
    this.writes.patch += 1;
    return this.#transport.request<T>({ method: 'PATCH', path, body: ops, contentType: JSON_PATCH });
  }

  async create<T extends KubeObject>(obj: T): Promise<T> {
    const ref = refOf(obj);
    const type = await this.#type(ref);
    this.writes.create += 1;
    return this.#transport.request<T>({ method: 'POST', path: resourcePath(type, ref.namespace), body: obj });
  }

  async createApplied<T extends KubeObject>(desired: T, options: ApplyOptions): Promise<ApplyOutcome<T>> {
    const ref = refOf(desired);
    const { body, digest } = this.#withHash(desired);
    const type = await this.#type(ref);
    this.writes.create += 1;
    const object = await this.#transport.request<T>({ method: 'POST', path: resourcePath(type, ref.namespace), query: { fieldManager: options.fieldManager, fieldValidation: 'Strict' }, body });
    this.#memo.remember(objectId(ref), `${options.fieldManager}/`, body, undefined, object, digest);
    return { written: true, object };
  }

  async replace<T extends KubeObject>(obj: T): Promise<T> {
    const path = await this.#path(refOf(obj));
    this.writes.replace += 1;
    return this.#transport.request<T>({ method: 'PUT', path, body: obj });
  }

  async replaceStatus<T extends KubeObject>(obj: T): Promise<T> {
    if (!obj.metadata?.resourceVersion) throw new TypeError(`replaceStatus of ${obj.kind} ${obj.metadata?.name} needs metadata.resourceVersion`);
    const ref = refOf(obj);
    const path = await this.#path(ref, 'status');
    this.#memo.forget(objectId(ref));
    this.writes.replaceStatus += 1;
    return this.#transport.request<T>({ method: 'PUT', path, body: obj });
  }

  async #apply<T extends KubeObject>(
    ref: ObjectRef,
    body: unknown,
    subresource: 'status' | undefined,
    options: ApplyOptions,
    digest?: string,
  ): Promise<ApplyOutcome<T>> {
    const id = objectId(ref);
    const slot = `${options.fieldManager}/${subresource ?? ''}`;
    const verb = subresource === 'status' ? 'applyStatus' : 'apply';
    const live = options.live ?? this.#live(ref);
    // A status is compared with the live one before the memo is asked, which would hash the body first.
    const status = subresource === 'status';
    if ((status && this.#liveMatches(body, subresource, live)) || this.#memo.canSkip(id, slot, body, live, digest) || (!status && this.#liveMatches(body, subresource, live))) {
      this.skipped[verb] += 1;
      return { written: false };
    }
    const path = await this.#path(ref, subresource);
    const query = { fieldManager: options.fieldManager, force: options.force ?? true, fieldValidation: 'Strict' };
    this.writes[verb] += 1;
    try {
      const object = await this.#transport.request<T>({ method: 'PATCH', path, query, body, contentType: APPLY_PATCH });
      this.#memo.remember(id, slot, body, live, object, digest);
      return { written: true, object };
    } catch (err) {
      this.#memo.forget(id, slot);
      throw err;
    }
  }

  async #type(ref: ObjectRef): Promise<ResourceType> {
    const type = await this.#resolver.resolve(ref.apiVersion, ref.kind);
    if (type.namespaced && !ref.namespace) throw new TypeError(`${ref.kind} ${ref.name} needs a namespace`);
    return type;
  }

  async #path(ref: ObjectRef, subresource?: string): Promise<string> {
    return resourcePath(await this.#type(ref), ref.namespace, ref.name, subresource);
  }
}

function objectId(ref: ObjectRef): string {
  return `${ref.apiVersion}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}

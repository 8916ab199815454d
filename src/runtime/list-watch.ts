// SPDX-License-Identifier: Apache-2.0
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { KubeTransport } from './kube-http.ts';
import { resourcePath, type KubeObject, type ResourceType } from './resource.ts';

/** One page of a list call. */
export interface ListPage<T> {
  readonly items: T[];
  /** The collection's resourceVersion, to start a watch from. */
  readonly resourceVersion: string;
  /** Token of the next page; absent on the last page. */
  readonly continue?: string | undefined;
}

/** The watch event types of the Kubernetes API. */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** One watch event; for `ERROR` the object is a `Status` (`{code, reason, message}`). */
export interface WatchEvent<T> {
  readonly type: WatchEventType;
  readonly object: T;
}

/** A running watch. */
export interface WatchHandle {
  /** Closes the watch; `onDone` is called (with an abort error) unless it already was. */
  abort(): void;
}

/**
 * Lists and watches one kind in one scope (namespace, selectors fixed at creation). The reflector's only port
 * to the API server, so tests can put an in-memory fake behind it.
 *
 * Guarantees expected from implementations: `onDone` is called exactly once per watch, with `undefined`/`null`
 * for a normal close (server timeout) and an error otherwise; an HTTP 410 error or an `ERROR` event with
 * `code: 410` means the resourceVersion is too old.
 */
export interface ListWatchSource<T> {
  /** One page of the collection (consistent read). */
  list(options: { readonly limit: number; readonly continue?: string | undefined }): Promise<ListPage<T>>;
  /** Opens a watch from `resourceVersion`; resolves once the connection is open. */
  watch(
    options: { readonly resourceVersion: string; readonly timeoutSeconds: number },
    onEvent: (event: WatchEvent<T>) => void,
    onDone: (err: unknown) => void,
  ): Promise<WatchHandle>;
}

/** The scope a reflector lists and watches: a kind, optionally one namespace and selectors. */
export interface WatchSpec {
  readonly resource: ResourceType;
  /** Omit for all namespaces (or for cluster-scoped kinds). */
  readonly namespace?: string | undefined;
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
}

/** Options of {@link createListWatch}. */
export interface ListWatchOptions {
  /**
   * client-node's `Watch` aborts a connection that received no byte for this long (its default is 30 s, shorter
   * than the API server's ~1 min bookmark period, which would reopen idle watches twice a minute). Default
   * 10 min: the reflector's own watchdog is the primary guard against silent connections.
   */
  readonly inactivityTimeoutMs?: number;
}

/**
 * The client-node implementation: `GET <collection>?limit&continue` through the transport, and client-node's
 * `Watch` on the same path with `allowWatchBookmarks=true`.
 */
export function createListWatch<T extends KubeObject>(
  kc: KubeConfig,
  transport: KubeTransport,
  spec: WatchSpec,
  options: ListWatchOptions = {},
): ListWatchSource<T> {
  const path = resourcePath(spec.resource, spec.namespace);
  const selectors = { labelSelector: spec.labelSelector, fieldSelector: spec.fieldSelector };
  return {
    async list({ limit, continue: token }) {
      const body = await transport.request<{ items?: T[]; metadata?: { resourceVersion?: string; continue?: string } }>(
        { method: 'GET', path, query: { ...selectors, limit, continue: token } },
      );
      return {
        items: body.items ?? [],
        resourceVersion: body.metadata?.resourceVersion ?? '',
        continue: body.metadata?.continue || undefined,
      };
    },
    async watch({ resourceVersion, timeoutSeconds }, onEvent, onDone) {
      const watch = new Watch(kc);
      // `requestTimeoutMs` is private in the typings but a plain field at runtime (client-node 2.0.1 watch.js).
      (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = options.inactivityTimeoutMs ?? 600_000;
      const query = { ...selectors, resourceVersion, timeoutSeconds, allowWatchBookmarks: true };
      const controller = await watch.watch(
        path,
        query,
        (type: string, object: T) => onEvent({ type: type as WatchEventType, object }),
        onDone,
      );
      return { abort: () => controller.abort() };
    },
  };
}

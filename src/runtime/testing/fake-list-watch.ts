// SPDX-License-Identifier: Apache-2.0
import { KubeApiError } from '../kube-http.ts';
import type { ListPage, ListWatchSource, WatchEvent, WatchHandle } from '../list-watch.ts';
import { keyOf, type KubeObject } from '../resource.ts';

interface Watcher<T> {
  readonly onEvent: (event: WatchEvent<T>) => void;
  readonly onDone: (err: unknown) => void;
  closed: boolean;
  /** A half-open connection: open, but nothing arrives any more. */
  dead: boolean;
}

/** How the fake reports a resourceVersion older than its history. */
export type GoneMode = 'http' | 'event';

/**
 * An in-memory list/watch endpoint for one kind with the API server's resourceVersion rules: a global counter,
 * a bounded event history (`compact()`), 410 for watches from before the history, and paging by snapshot.
 *
 * Caveats: a test double for the reflector, not an API server; it knows nothing of validation or selectors.
 */
export class FakeListWatch<T extends KubeObject> implements ListWatchSource<T> {
  readonly watchRequests: Array<{ resourceVersion: string; timeoutSeconds: number }> = [];
  listCalls = 0;
  goneMode: GoneMode = 'http';
  /** When true, every watch is refused as too old (a misbehaving server or proxy). */
  alwaysGone = false;
  #stalled = false;
  /** When set, the next list call fails with it. */
  failNextList: Error | undefined;
  #rv = 100;
  #objects = new Map<string, T>();
  #history: Array<{ rv: number; event: WatchEvent<T> }> = [];
  #compactedTo = 100;
  #watchers = new Set<Watcher<T>>();
  #snapshots = new Map<string, T[]>();

  /**
   * While true, every open watch and every watch opened meanwhile is half-open for good: it stays open but
   * delivers nothing, even after `stalled` is set back to false (which affects new watches only).
   */
  get stalled(): boolean {
    return this.#stalled;
  }

  set stalled(value: boolean) {
    this.#stalled = value;
    if (value) for (const watcher of this.#watchers) watcher.dead = true;
  }

  /** Creates or replaces an object, bumping its resourceVersion; returns the stored copy. */
  upsert(obj: T): T {
    const key = keyOf(obj);
    const type = this.#objects.has(key) ? 'MODIFIED' : 'ADDED';
    const stored = { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(++this.#rv) } };
    this.#objects.set(key, stored);
    this.#record({ type, object: stored });
    return stored;
  }

  /** Deletes an object (no-op when absent). */
  remove(namespace: string | undefined, name: string): void {
    const key = namespace ? `${namespace}/${name}` : name;
    const old = this.#objects.get(key);
    if (!old) return;
    this.#objects.delete(key);
    const object = { ...old, metadata: { ...old.metadata, resourceVersion: String(++this.#rv) } };
    this.#record({ type: 'DELETED', object });
  }

  /** Forgets the history, so watches from any earlier resourceVersion get 410. */
  compact(): void {
    this.#compactedTo = this.#rv;
    this.#history = [];
  }

  /** Sends a bookmark with the current resourceVersion to open watches. */
  bookmark(): void {
    this.#broadcast({ type: 'BOOKMARK', object: { metadata: { resourceVersion: String(this.#rv) } } as T });
  }

  /** Ends open watches the way a server-side timeout does. */
  closeWatches(): void {
    for (const watcher of this.#watchers) this.#close(watcher, null);
  }

  /** Sends an in-stream 410 to open watches and closes them. */
  expireWatches(): void {
    for (const watcher of this.#watchers) {
      watcher.onEvent({ type: 'ERROR', object: { code: 410, reason: 'Expired', message: 'too old' } as unknown as T });
      this.#close(watcher, null);
    }
  }

  openWatches(): number {
    return this.#watchers.size;
  }

  async list(options: { limit: number; continue?: string | undefined }): Promise<ListPage<T>> {
    this.listCalls += 1;
    const failure = this.failNextList;
    this.failNextList = undefined;
    if (failure) throw failure;
    const token = options.continue ?? `${this.#rv}:0`;
    const [rv = '', offsetText = '0'] = token.split(':');
    const snapshot = this.#snapshots.get(rv) ?? structuredClone([...this.#objects.values()]);
    this.#snapshots.set(rv, snapshot);
    const offset = Number(offsetText);
    const items = snapshot.slice(offset, offset + options.limit).map((obj) => {
      const { apiVersion: _v, kind: _k, ...rest } = obj;
      return rest as T;
    });
    const next = offset + options.limit < snapshot.length ? `${rv}:${offset + options.limit}` : undefined;
    return { items, resourceVersion: rv, continue: next };
  }

  async watch(
    options: { resourceVersion: string; timeoutSeconds: number },
    onEvent: (event: WatchEvent<T>) => void,
    onDone: (err: unknown) => void,
  ): Promise<WatchHandle> {
    this.watchRequests.push({ ...options });
    const from = Number(options.resourceVersion);
    const watcher: Watcher<T> = { onEvent, onDone, closed: false, dead: this.#stalled };
    if (from < this.#compactedTo || this.alwaysGone) {
      if (this.goneMode === 'http') throw new KubeApiError(410, 'Expired', 'too old resource version');
      queueMicrotask(() => {
        onEvent({ type: 'ERROR', object: { code: 410, reason: 'Expired', message: 'too old' } as unknown as T });
        this.#close(watcher, null);
      });
      return { abort: () => this.#close(watcher, new Error('aborted')) };
    }
    queueMicrotask(() => {
      if (watcher.closed) return;
      for (const entry of this.#history) if (entry.rv > from) this.#deliver(watcher, entry.event);
      this.#watchers.add(watcher);
    });
    return { abort: () => this.#close(watcher, new Error('aborted')) };
  }

  #record(event: WatchEvent<T>): void {
    this.#history.push({ rv: this.#rv, event });
    this.#broadcast(event);
  }

  #broadcast(event: WatchEvent<T>): void {
    for (const watcher of this.#watchers) this.#deliver(watcher, event);
  }

  #deliver(watcher: Watcher<T>, event: WatchEvent<T>): void {
    if (watcher.closed || watcher.dead) return;
    watcher.onEvent({ type: event.type, object: structuredClone(event.object) });
  }

  #close(watcher: Watcher<T>, err: unknown): void {
    if (watcher.closed) return;
    watcher.closed = true;
    this.#watchers.delete(watcher);
    watcher.onDone(err);
  }
}

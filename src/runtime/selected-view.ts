// SPDX-License-Identifier: Apache-2.0
import type { WatchSpec } from './list-watch.ts';
import { noopLogger, type Logger } from './log.ts';
import type { SourceLike } from './namespace-fanout.ts';
import { keyOf, type KubeObject } from './resource.ts';
import type { ChangeListener, Store } from './store.ts';

/** One requirement of an equality-based label selector. */
export interface LabelRequirement {
  readonly key: string;
  /** `=` (also written `==`), `!=`, `exists` (`key`) or `absent` (`!key`). */
  readonly op: '=' | '!=' | 'exists' | 'absent';
  readonly value?: string;
}

/**
 * Parses an equality-based label selector (`a=b,c!=d,e,!f`); `undefined` for a set-based one (`in`,
 * `notin`, parentheses) or anything else it does not understand, so the caller falls back to the server.
 */
export function parseLabelSelector(selector: string): LabelRequirement[] | undefined {
  if (/[()]|\s(in|notin)\s/.test(selector)) return undefined;
  const requirements: LabelRequirement[] = [];
  for (const raw of selector.split(',')) {
    const part = raw.trim();
    const m = /^([^=!\s]+)\s*(==|=|!=)\s*([^=!\s]*)$/.exec(part);
    if (m) requirements.push({ key: m[1]!, op: m[2] === '!=' ? '!=' : '=', value: m[3]! });
    else if (/^![^=!\s]+$/.test(part)) requirements.push({ key: part.slice(1), op: 'absent' });
    else if (/^[^=!\s]+$/.test(part)) requirements.push({ key: part, op: 'exists' });
    else return undefined;
  }
  return requirements;
}

/** True when `labels` meet every requirement (as the API server decides it). */
export function matchesLabels(requirements: readonly LabelRequirement[], labels: Readonly<Record<string, string>> | undefined): boolean {
  return requirements.every(({ key, op, value }) => {
    const actual = labels?.[key];
    if (op === 'exists') return actual !== undefined;
    if (op === 'absent') return actual === undefined;
    if (op === '=') return actual === value;
    return actual !== value;
  });
}

/**
 * A label-selected source served from a source of the same kind and scope without a selector, so one cache
 * (one list, one watch) holds the objects once.
 *
 * Guarantees: once bound, its store shows exactly the parent's objects that match the selector; listeners
 * (also those registered before `bind`) see an object that starts to match as `ADDED` and one that stops
 * matching as `DELETED` (with its last matching state), like a reflector with that selector would; lifecycle
 * calls go to the parent (whose `start` is idempotent).
 * Caveats: before `bind` (the manager binds views at start) the view is empty and its lifecycle calls do
 * nothing; `stats` are all zero (the parent counts its lists and watches); `list` costs a pass over the
 * parent's objects of the namespace.
 */
export class SelectedView<T extends KubeObject> implements SourceLike<T> {
  readonly spec: WatchSpec;
  readonly store: Store<T>;
  readonly stats = { lists: 0, watches: 0, relistsAfterGone: 0, watchdogRestarts: 0, errors: 0 };
  readonly #matches: (obj: T | undefined) => obj is T;
  readonly #listeners = new Set<ChangeListener<T>>();
  readonly #logger: Logger;
  #parent: SourceLike<T> | undefined;

  constructor(spec: WatchSpec, requirements: readonly LabelRequirement[], logger: Logger = noopLogger) {
    this.spec = spec;
    this.#logger = logger;
    const matches = (obj: T | undefined): obj is T => obj !== undefined && matchesLabels(requirements, obj.metadata?.labels);
    this.#matches = matches;
    const store = (): Store<T> | undefined => this.#parent?.store;
    this.store = {
      get: (namespace, name) => {
        const obj = store()?.get(namespace, name);
        return matches(obj) ? obj : undefined;
      },
      list: (namespace) => (store()?.list(namespace) ?? []).filter(matches),
      keys: () => (store()?.list() ?? []).filter(matches).map(keyOf),
      hasSynced: () => store()?.hasSynced() ?? false,
      onChange: (listener) => {
        this.#listeners.add(listener);
        return () => void this.#listeners.delete(listener);
      },
    };
  }

  /** Serves the view from `parent` from now on; a second call is ignored. */
  bind(parent: SourceLike<T>): void {
    if (this.#parent) return;
    this.#parent = parent;
    parent.store.onChange((type, obj, old) => {
      const before = type === 'DELETED' ? this.#matches(obj) : this.#matches(old);
      const now = type !== 'DELETED' && this.#matches(obj);
      if (type === 'DELETED') {
        if (before) this.#emit('DELETED', obj, undefined);
      } else if (now && before) this.#emit('MODIFIED', obj, old);
      else if (now) this.#emit('ADDED', obj, undefined);
      else if (before) this.#emit('DELETED', old!, undefined);
    });
  }

  start(): void {
    this.#parent?.start();
  }

  async stop(): Promise<void> {
    await this.#parent?.stop();
  }

  waitForSync(): Promise<boolean> {
    return this.#parent?.waitForSync() ?? Promise.resolve(false);
  }

  hasSynced(): boolean {
    return this.#parent?.hasSynced() ?? false;
  }

  #emit(...args: Parameters<ChangeListener<T>>): void {
    for (const listener of this.#listeners) {
      try {
        listener(...args);
      } catch (err) {
        this.#logger.error('Failed to notify store listener', { err, key: keyOf(args[1]), type: args[0] });
      }
    }
  }
}

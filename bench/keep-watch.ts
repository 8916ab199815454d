// SPDX-License-Identifier: Apache-2.0
/** A watch that outlives client-node's 30 s inactivity timeout and dropped connections. */
import { Watch } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';

/** A running {@link keepWatching}. */
export interface KeptWatch {
  /** Stops for good (like `AbortController.abort`). */
  abort(): void;
  /** How many times the watch was reopened. */
  reopened(): number;
}

/**
 * Calls `onEvent` for every event on `path` (with `query`) from now on, until `abort()`. A request
 * that ends (client-node ends one after 30 s without events; the apiserver after its timeout; a
 * dropped connection) is reopened from the last resourceVersion seen, so no event is lost; after a
 * 410 it is reopened without one and the current objects arrive again as ADDED. `from`: a
 * resourceVersion to start at (e.g. a list's, to skip the objects that exist already).
 */
export async function keepWatching<T>(kc: KubeConfig, path: string, query: Record<string, unknown>, onEvent: (type: string, obj: T) => void, from?: string): Promise<KeptWatch> {
  let rv = from;
  let current: AbortController | undefined;
  let stopped = false;
  let reopened = 0;
  const open = async (): Promise<void> => {
    if (stopped) return;
    try {
      current = await new Watch(kc).watch(path, { ...query, allowWatchBookmarks: true, ...(rv ? { resourceVersion: rv } : {}) }, (type: string, obj: T & { code?: number }) => {
        if (type === 'ERROR') {
          if (obj.code === 410) rv = undefined;
          return;
        }
        const version = (obj as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
        if (version) rv = version;
        if (type !== 'BOOKMARK') onEvent(type, obj);
      }, (err: unknown) => {
        if (stopped) return;
        reopened++;
        setTimeout(() => void open(), err ? 200 : 0);
      });
      if (stopped) current.abort();
    } catch {
      setTimeout(() => void open(), 1000);
    }
  };
  await open();
  return {
    abort: () => {
      stopped = true;
      current?.abort();
    },
    reopened: () => reopened,
  };
}

// SPDX-License-Identifier: Apache-2.0
/** A pod watch on one namespace that outlives client-node's 30 s inactivity timeout. */
import { CoreV1Api, Watch } from '@kubernetes/client-node';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';

export interface PodWatch {
  stop(): void;
  /** How many times the watch was reopened (after a timeout, a closed connection or an error). */
  reopened(): number;
}

/**
 * Calls `onPod` (on the event's arrival) for every pod event in `namespace` from now on, until
 * `stop()`. client-node's Watch ends a request after 30 s without events (e.g. while a hub starts);
 * this reopens it from the last resourceVersion seen, so no event is lost. After a 410 (history
 * expired) it reopens without one and the current pods arrive as new events.
 */
export async function watchPods(kc: KubeConfig, namespace: string, onPod: (pod: V1Pod) => void): Promise<PodWatch> {
  const list = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace, limit: 1 });
  let rv = list.metadata?.resourceVersion;
  let current: AbortController | undefined;
  let stopped = false;
  let reopened = 0;
  const open = async (): Promise<void> => {
    if (stopped) return;
    try {
      current = await new Watch(kc).watch(`/api/v1/namespaces/${namespace}/pods`, { resourceVersion: rv, allowWatchBookmarks: true }, (type: string, obj: V1Pod & { code?: number }) => {
        if (type === 'ERROR') {
          if (obj.code === 410) rv = undefined;
          return;
        }
        if (obj.metadata?.resourceVersion) rv = obj.metadata.resourceVersion;
        if (type !== 'BOOKMARK') onPod(obj);
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
    stop: () => {
      stopped = true;
      current?.abort();
    },
    reopened: () => reopened,
  };
}

// SPDX-License-Identifier: Apache-2.0
/** A pod watch on one namespace that outlives client-node's 30 s inactivity timeout. */
import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { keepWatching } from '../keep-watch.ts';
import type { KeptWatch } from '../keep-watch.ts';

/**
 * Calls `onPod` (on the event's arrival) for every pod event in `namespace` from now on (pods
 * that exist already are not reported), until `abort()`; reopened as {@link keepWatching} says.
 */
export async function watchPods(kc: KubeConfig, namespace: string, onPod: (pod: V1Pod) => void): Promise<KeptWatch> {
  const list = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace, limit: 1 });
  return keepWatching<V1Pod>(kc, `/api/v1/namespaces/${namespace}/pods`, {}, (_type, pod) => onPod(pod), list.metadata?.resourceVersion);
}

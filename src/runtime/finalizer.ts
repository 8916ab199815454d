// SPDX-License-Identifier: Apache-2.0
import { done, type ReconcileResult } from './errors.ts';
import type { JsonPatchOp, KubeClient } from './kube.ts';
import { isNotFound } from './kube-http.ts';
import { refOf, type KubeObject } from './resource.ts';

/** The two halves of a reconciler that owns state outside the cluster. */
export interface FinalizerHandlers<T> {
  /** The object is live and carries our finalizer: converge it. */
  apply(obj: T): Promise<ReconcileResult>;
  /** The object is being deleted and still carries our finalizer: release what lives outside the cluster. */
  cleanup(obj: T): Promise<ReconcileResult>;
}

/**
 * Runs `apply` or `cleanup` for `obj` under the finalizer `name`, with kube-rs `finalizer()` semantics.
 *
 * Expected flow:
 * 1. A new object has no finalizer: it is added with a JSON Patch whose `test` op checks the finalizer list is
 *    still the one seen (absent, or equal), and `done()` is returned; the patch's own watch event triggers the
 *    next pass.
 * 2. The object is live and carries the finalizer: `apply` runs and its result is returned.
 * 3. The object has a `deletionTimestamp` and carries the finalizer: `cleanup` runs; when it succeeds, only
 *    our entry is removed (a `test` op checks the entry at that index is still ours) and cleanup's result is
 *    returned. The API server deletes the object once the last finalizer is gone.
 * 4. The object is being deleted without our finalizer: nothing runs, `done()` is returned.
 *
 * Guarantees: another controller's finalizer is never removed or duplicated; `cleanup` has completed before
 * our finalizer is removed; a stale view of the object makes the patch fail (HTTP 422 from the `test` op),
 * which is thrown so the key is retried with a fresh view.
 * Assumptions: `apply` and `cleanup` are idempotent; `cleanup` copes with `apply` never having run (the object
 * may be deleted right after step 1), and may run more than once (if the removal patch fails).
 * Caveats: while the controller is down, deletions of objects carrying the finalizer hang; remove it by hand
 * (`kubectl patch --type=json`) if the controller is uninstalled for good.
 */
export async function withFinalizer<T extends KubeObject>(
  kube: Pick<KubeClient, 'jsonPatch'>,
  name: string,
  obj: T,
  handlers: FinalizerHandlers<T>,
): Promise<ReconcileResult> {
  const finalizers = obj.metadata?.finalizers ?? [];
  const index = finalizers.indexOf(name);
  const deleting = obj.metadata?.deletionTimestamp !== undefined;
  if (index >= 0 && !deleting) return handlers.apply(obj);
  if (index >= 0) {
    const result = await handlers.cleanup(obj);
    await patchIgnoringNotFound(kube, obj, removeOps(name, index));
    return result;
  }
  if (!deleting) await kube.jsonPatch(refOf(obj), addOps(name, finalizers));
  return done();
}

function addOps(name: string, finalizers: readonly string[]): JsonPatchOp[] {
  if (finalizers.length === 0) {
    return [
      { op: 'test', path: '/metadata/finalizers', value: null },
      { op: 'add', path: '/metadata/finalizers', value: [name] },
    ];
  }
  return [
    { op: 'test', path: '/metadata/finalizers', value: finalizers },
    { op: 'add', path: '/metadata/finalizers/-', value: name },
  ];
}

function removeOps(name: string, index: number): JsonPatchOp[] {
  return [
    { op: 'test', path: `/metadata/finalizers/${index}`, value: name },
    { op: 'remove', path: `/metadata/finalizers/${index}` },
  ];
}

async function patchIgnoringNotFound(kube: Pick<KubeClient, 'jsonPatch'>, obj: KubeObject, ops: JsonPatchOp[]): Promise<void> {
  try {
    await kube.jsonPatch(refOf(obj), ops);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

// SPDX-License-Identifier: Apache-2.0
/**
 * Cleanup between integration test files. All files share one cluster and each starts its
 * own operator, which acts on every namespace: a session left behind keeps its GPUs, a
 * DatasetMount left behind keeps its cluster-scoped PersistentVolume, and a later file
 * would see them. Deleting what a file made keeps the order of files from changing a result.
 */
import { core, freshNamespaces, waitFor } from './helpers.ts';
import { isGone } from './gone.ts';

/**
 * Deletes `name` and waits until it answers 404, then removes any PersistentVolume still
 * bound to a claim in it. Best effort: a namespace still terminating after `timeoutMs`, or
 * a volume left behind, is reported on stderr, not failed.
 *
 * Call it while an operator runs: session and DatasetMount finalizers need it (the latter
 * to remove their PersistentVolumes), and a namespace holding them cannot go away without it.
 */
export async function deleteNamespace(name: string, timeoutMs = 60_000): Promise<void> {
  try {
    await core().deleteNamespace({ name }).catch((err: unknown) => {
      if ((err as { code?: number }).code !== 404) throw err;
    });
    await waitFor(`namespace ${name} to be deleted`, () => isGone(() => core().readNamespace({ name })), timeoutMs);
    const left = (await core().listPersistentVolume()).items.filter((pv) => pv.spec?.claimRef?.namespace === name);
    for (const pv of left) {
      console.error(`[cleanup] PersistentVolume ${pv.metadata!.name} of deleted namespace ${name} was left behind; deleting it`);
      await core().deletePersistentVolume({ name: pv.metadata!.name! }).catch(() => undefined);
    }
  } catch (err) {
    console.error(`[cleanup] ${(err as Error).message}`);
  }
}

/** Deletes every namespace this file made with `freshNamespace` (see {@link deleteNamespace}). */
export async function deleteFreshNamespaces(timeoutMs = 60_000): Promise<void> {
  await Promise.all(freshNamespaces().map((name) => deleteNamespace(name, timeoutMs)));
}

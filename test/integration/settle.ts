// SPDX-License-Identifier: Apache-2.0
/**
 * Waiting on the operator's own progress instead of on the clock: a "pass" is as many
 * reconciles of the session controller as there are sessions in the cluster, which is what
 * one resync (or the first sync after a start) does.
 */
import { custom, waitFor } from './helpers.ts';
import type { OperatorProcess } from './operator.ts';

const RECONCILES = 'controller_runtime_reconcile_total{controller="analysissession"';

/** Reconciles of the session controller so far, whatever their result. */
export async function sessionReconciles(op: OperatorProcess): Promise<number> {
  return Object.entries(await op.metrics()).filter(([k]) => k.startsWith(RECONCILES)).reduce((a, [, v]) => a + v, 0);
}

/** AnalysisSessions in the whole cluster (the operator watches every namespace). */
export async function sessionsInCluster(): Promise<number> {
  const list = (await custom().listClusterCustomObject({ group: 'panalysis.io', version: 'v1alpha1', plural: 'analysissessions' })) as { items: unknown[] };
  return list.items.length;
}

/**
 * Waits until the operator has made `passes` more passes over the sessions, and resolves
 * the writes it made meanwhile.
 * @throws Error when there is no session (no pass can be seen), or when the passes do not
 * happen within `timeoutMs` (is resync on?).
 */
export async function writesDuringPasses(op: OperatorProcess, passes: number, timeoutMs = 60_000): Promise<number> {
  const writes = await op.writes();
  const from = await sessionReconciles(op);
  const sessions = await sessionsInCluster();
  if (sessions === 0) throw new Error('no AnalysisSession in the cluster: a pass over the sessions cannot be observed');
  const want = passes * sessions;
  await waitFor(`${passes} pass(es) of the session controller (${want} reconciles)`, async () => (await sessionReconciles(op)) >= from + want, timeoutMs);
  return (await op.writes()) - writes;
}

/** Waits until one whole pass over the sessions makes no write. */
export async function settled(op: OperatorProcess, timeoutMs = 60_000): Promise<void> {
  await waitFor('a pass of the session controller without writes', async () => (await writesDuringPasses(op, 1, timeoutMs)) === 0, timeoutMs);
}

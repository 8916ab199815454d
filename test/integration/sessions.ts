// SPDX-License-Identifier: Apache-2.0
/** Helpers to create and watch AnalysisSessions as a portal would. */
import type { AnalysisSession, AnalysisSessionSpec } from '../../src/api/v1alpha1/analysis-session.ts';
import { custom, waitFor } from './helpers.ts';

const G = { group: 'panalysis.io', version: 'v1alpha1', plural: 'analysissessions' };

export async function createSession(namespace: string, name: string, spec: AnalysisSessionSpec, user?: string): Promise<AnalysisSession> {
  return (await custom(user).createNamespacedCustomObject({ ...G, namespace, body: { apiVersion: 'panalysis.io/v1alpha1', kind: 'AnalysisSession', metadata: { name }, spec } })) as AnalysisSession;
}

export async function getSession(namespace: string, name: string): Promise<AnalysisSession> {
  return (await custom().getNamespacedCustomObject({ ...G, namespace, name })) as AnalysisSession;
}

export async function patchSession(namespace: string, name: string, spec: Partial<AnalysisSessionSpec>): Promise<void> {
  const s = await getSession(namespace, name);
  s.spec = { ...s.spec, ...spec };
  await custom().replaceNamespacedCustomObject({ ...G, namespace, name, body: s });
}

export async function deleteSession(namespace: string, name: string): Promise<void> {
  await custom().deleteNamespacedCustomObject({ ...G, namespace, name });
}

/** Waits until `check` holds for the session; the error shows its last status. */
export async function waitSession(namespace: string, name: string, what: string, check: (s: AnalysisSession) => boolean, timeoutMs = 60_000): Promise<AnalysisSession> {
  let last: AnalysisSession | undefined;
  try {
    await waitFor(`session ${namespace}/${name}: ${what}`, async () => {
      last = await getSession(namespace, name);
      return check(last);
    }, timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}; last status: ${JSON.stringify(last?.status)}`, { cause: err });
  }
  return last!;
}

export const isPhase = (phase: string) => (s: AnalysisSession) => s.status?.phase === phase;
export const readyReason = (s: AnalysisSession) => s.status?.conditions?.find((c) => c.type === 'Ready')?.reason;

// SPDX-License-Identifier: Apache-2.0
/**
 * Admission on the real apiserver: the ValidatingAdmissionPolicy lets only trusted
 * portals create sessions for another user, the user ClusterRoles keep DatasetMounts
 * and quotas for admins, and adversarial specs are refused with a message that names
 * the field (kubectl's strict field validation for fields that do not exist).
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { stringify } from 'yaml';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { apiErrorMessage, freshNamespace, kubeConfig } from './helpers.ts';
import { createSession } from './sessions.ts';
import { custom } from './helpers.ts';
import { deleteFreshNamespaces } from './cleanup.ts';

const run = promisify(execFile);
let ns: string;

beforeAll(async () => {
  ns = await freshNamespace('adm', { 'panalysis.io/proposal': '20231234' });
  const rbac = kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  for (const user of ['alice', 'portal']) {
    await rbac.createNamespacedRoleBinding({ namespace: ns, body: { metadata: { name: `${user}-portal` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'panalysis-portal' }, subjects: [{ kind: 'User', name: user, apiGroup: 'rbac.authorization.k8s.io' }] } });
  }
});

afterAll(async () => {
  await deleteFreshNamespaces();
});

const session = (user: string) => ({ user, type: 'jupyter' as const, profile: 'jupyter-scipy' });
const refusal = (p: Promise<unknown>) => p.then(() => '', apiErrorMessage);

/** `kubectl apply` as `user` (strict field validation, as kubectl does by default). */
async function kubectlApply(user: string, obj: unknown): Promise<string> {
  const file = join(inject('clusterDir'), `apply-${Date.now()}-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify(obj));
  try {
    await run(inject('kubectl'), ['apply', '-n', ns, '-f', file], { env: { ...process.env, KUBECONFIG: inject('userKubeconfigs')[user] } });
    return '';
  } catch (err) {
    return (err as { stderr: string }).stderr;
  }
}

const sessionObject = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'panalysis.io/v1alpha1', kind: 'AnalysisSession', metadata: { name }, spec: { ...session('alice'), ...spec } });

describe('admission', () => {
  it('lets a scientist create a session for themselves', async () => {
    await createSession(ns, 'own', session('alice'), 'alice');
  });

  it('refuses a spec.user spoofed by a requester who is not a portal', async () => {
    const message = await refusal(createSession(ns, 'spoof', session('bob'), 'alice'));
    expect(message).toMatch(/ValidatingAdmissionPolicy 'panalysis-session-user'/);
    expect(message).toMatch(/spec\.user: alice may create sessions only for themselves, not for bob; only trusted portals \(groups panalysis:portals\) may set another user/);
  });

  it('lets a trusted portal create sessions for any user', async () => {
    await createSession(ns, 'for-bob', session('bob'), 'portal');
  });

  it('keeps DatasetMounts and quotas for admins', async () => {
    const create = (user: string, plural: string, kind: string, spec: unknown) =>
      refusal(custom(user).createNamespacedCustomObject({ group: 'panalysis.io', version: 'v1alpha1', plural, namespace: ns, body: { apiVersion: 'panalysis.io/v1alpha1', kind, metadata: { name: 'x' }, spec } }));
    const dataset = { source: { hostPath: { path: '/gpfs/exfel/exp' } }, access: { readGroups: ['p20231234'] }, mountPath: '/data/x' };
    expect(await create('alice', 'datasetmounts', 'DatasetMount', dataset)).toMatch(/User "alice" cannot create resource "datasetmounts"/);
    expect(await create('portal', 'resourcequotas', 'ResourceQuota', {})).toMatch(/User "portal" cannot create resource "resourcequotas"/);
  });

  const adversarial: Record<string, [Record<string, unknown>, RegExp]> = {
    'a hostPath volume': [{ volumes: [{ name: 'h', hostPath: { path: '/' } }] }, /unknown field "spec\.volumes"/],
    'an image of its own': [{ image: 'evil/miner:latest' }, /unknown field "spec\.image"/],
    'a privileged security context': [{ securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN'] } } }, /unknown field "spec\.securityContext"/],
    'a uid of its own': [{ runAsUser: 0 }, /unknown field "spec\.runAsUser"/],
    'NVIDIA_* environment variables': [{ env: [{ name: 'NVIDIA_VISIBLE_DEVICES', value: 'all' }] }, /unknown field "spec\.env"/],
    'a dataset from another namespace': [{ datasets: [{ name: 'proposal-999/raw' }] }, /spec\.datasets\[0\]\.name: Invalid value: "proposal-999\/raw"/],
    'a raw GPU resource name': [{ resources: { gpu: { flavour: 'nvidia.com/gpu', count: 8 } } }, /spec\.resources\.gpu\.flavour: Invalid value: "nvidia\.com\/gpu"/],
  };
  it.each(Object.entries(adversarial))('refuses %s, naming the field', async (_name, [spec, want]) => {
    const stderr = await kubectlApply('alice', sessionObject(`adv-${Math.random().toString(36).slice(2, 8)}`, spec));
    expect(stderr).toMatch(want);
  });
});

// SPDX-License-Identifier: Apache-2.0
/** Helpers for integration tests on the real local control plane. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CoreV1Api, CustomObjectsApi, KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { inject } from 'vitest';
import { waitFor } from '../../src/cluster/wait.ts';

const run = promisify(execFile);

/** A KubeConfig for the admin, or for one of the test users. */
export function kubeConfig(user?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(user ? inject('userKubeconfigs')[user]! : inject('kubeconfig'));
  return kc;
}

export const core = () => kubeConfig().makeApiClient(CoreV1Api);
export const custom = (user?: string) => kubeConfig(user).makeApiClient(CustomObjectsApi);
export const objects = (user?: string) => KubernetesObjectApi.makeApiClient(kubeConfig(user));

let counter = 0;
const created: string[] = [];
/**
 * Creates a namespace with a unique name and waits for its default ServiceAccount.
 * The name is remembered for `deleteFreshNamespaces` (cleanup.ts).
 */
export async function freshNamespace(prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const name = `${prefix}-${process.pid}-${++counter}`;
  await core().createNamespace({ body: { metadata: { name, labels } } });
  created.push(name);
  await waitFor(`default ServiceAccount in ${name}`, async () => {
    await core().readNamespacedServiceAccount({ name: 'default', namespace: name });
    return true;
  }, 30_000);
  return name;
}

/** Names made by `freshNamespace` in this test file so far (each file has its own module instance). */
export const freshNamespaces = (): readonly string[] => [...created];

/** Runs the cluster's kubectl as admin; resolves stdout, rejects with stderr. */
export async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await run(inject('kubectl'), args, { env: { ...process.env, KUBECONFIG: inject('kubeconfig') } });
  return stdout;
}

/** The message of a rejected API call (client-node ApiException body). */
export function apiErrorMessage(err: unknown): string {
  const e = err as { body?: unknown; message?: string };
  if (typeof e.body === 'string') {
    try {
      return (JSON.parse(e.body) as { message?: string }).message ?? e.body;
    } catch {
      return e.body;
    }
  }
  return e.message ?? String(err);
}

export { waitFor };

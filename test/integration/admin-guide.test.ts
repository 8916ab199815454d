// SPDX-License-Identifier: Apache-2.0
/**
 * The admin guide against the real apiserver and the chart: its proposal namespace manifest applies as written and
 * grants what the guide says (portal: sessions, not pods or secrets; scientists: read, not secrets; admins:
 * DatasetMounts), its core quota command works, and every Helm values snippet passes the chart's values schema and
 * renders a configuration the operator accepts. The same holds for the kind e2e values.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { findBinaries, REPO_ROOT } from '../../src/cluster/binaries.ts';
import { parseConfig } from '../../src/config/load.ts';
import { isGone } from './gone.ts';
import { core, kubectl, waitFor } from './helpers.ts';

const run = promisify(execFile);
const GUIDE = readFileSync(join(REPO_ROOT, 'docs', 'admin-guide.md'), 'utf8');
const yamlBlocks = [...GUIDE.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
const shBlocks = [...GUIDE.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
const ns = `proposal-admin-${process.pid}`;

afterAll(async () => {
  await core().deleteNamespace({ name: ns });
  await waitFor(`namespace ${ns} to be deleted`, () => isGone(() => core().readNamespace({ name: ns })), 120_000);
});

/** `kubectl auth can-i` as an impersonated identity: true or false. */
async function canI(verb: string, resource: string, as: string[]): Promise<boolean> {
  const out = await kubectl('auth', 'can-i', verb, resource, '-n', ns, ...as).catch((err: { stdout?: string }) => err.stdout ?? '');
  return out.trim() === 'yes';
}

/** The operator configuration the chart renders from `values` (a file). */
async function renderedConfig(values: string): Promise<string> {
  const { stdout } = await run(findBinaries().helm, ['template', 'panalysis', join(REPO_ROOT, 'charts', 'panalysis'), '-n', 'panalysis-system', '--kube-version', findBinaries().k8sVersion, '-f', values]);
  const cm = parseAllDocuments(stdout).map((d) => d.toJS() as { kind?: string; data?: Record<string, string> }).find((o) => o?.kind === 'ConfigMap');
  return cm!.data!['operator.yaml']!;
}

describe('admin guide', () => {
  it('sets up a proposal namespace as written, and it grants what the guide says', async () => {
    const manifest = yamlBlocks.find((b) => b.includes('kind: Namespace'))!.replaceAll('proposal-20231234', ns);
    const file = join(inject('clusterDir'), `admin-guide-${process.pid}.yaml`);
    writeFileSync(file, manifest);
    await kubectl('apply', '-f', file);
    const labels = (await core().readNamespace({ name: ns })).metadata?.labels;
    expect(labels).toMatchObject({ 'panalysis.io/proposal': '20231234', 'pod-security.kubernetes.io/enforce': 'restricted' });

    const operatorBinding = await kubectl('get', 'rolebinding', 'panalysis-operator', '-n', ns, '-o', 'jsonpath={.roleRef.name} {.subjects[0].kind} {.subjects[0].namespace}/{.subjects[0].name}');
    expect(operatorBinding).toBe('panalysis-operator-namespaced ServiceAccount panalysis-system/panalysis-operator');

    const portal = ['--as', 'portal'];
    const scientist = ['--as', 'some-scientist', '--as-group', 'p20231234'];
    const admin = ['--as', 'some-admin', '--as-group', 'facility-data-admins'];
    expect(await canI('create', 'analysissessions.panalysis.io', portal)).toBe(true);
    expect(await canI('delete', 'analysissessions.panalysis.io', portal)).toBe(true);
    expect(await canI('list', 'datasetmounts.panalysis.io', portal)).toBe(true);
    for (const resource of ['pods', 'persistentvolumeclaims', 'services', 'networkpolicies.networking.k8s.io', 'secrets', 'datasetmounts.panalysis.io']) {
      expect(await canI('create', resource, portal), `portal may create ${resource}`).toBe(false);
    }
    expect(await canI('get', 'secrets', portal)).toBe(false);
    expect(await canI('list', 'analysissessions.panalysis.io', scientist)).toBe(true);
    expect(await canI('list', 'resourcequotas.panalysis.io', scientist)).toBe(true);
    expect(await canI('get', 'secrets', scientist)).toBe(false);
    expect(await canI('create', 'analysissessions.panalysis.io', scientist)).toBe(false);
    expect(await canI('create', 'pods', scientist)).toBe(false);
    expect(await canI('create', 'datasetmounts.panalysis.io', admin)).toBe(true);
    expect(await canI('update', 'resourcequotas.panalysis.io', admin)).toBe(true);
    expect(await canI('get', 'secrets', admin)).toBe(false);
  });

  it('creates the core quota backstop with the command it shows', async () => {
    const command = shBlocks.find((b) => b.includes('create quota'))!.replaceAll('proposal-20231234', ns).replace(/\\\n\s*/g, '');
    const args = command.trim().split(/\s+/);
    expect(args[0]).toBe('kubectl');
    await kubectl(...args.slice(1));
    const quota = await core().readNamespacedResourceQuota({ name: 'sessions', namespace: ns });
    expect(quota.spec?.hard).toEqual({ pods: '4', 'requests.cpu': '32', 'requests.memory': '128Gi', 'requests.nvidia.com/gpu': '2' });
  });

  it('shows Helm values that pass the chart schema and render a configuration the operator accepts', async () => {
    const snippets = yamlBlocks.flatMap((b) => parseAllDocuments(b).map((d) => d.toJS() as Record<string, unknown> | null)).filter((d) => d !== null && 'config' in d);
    expect(snippets.length).toBeGreaterThanOrEqual(3);
    for (const [i, values] of snippets.entries()) {
      const file = join(inject('clusterDir'), `admin-guide-values-${process.pid}-${i}.yaml`);
      writeFileSync(file, stringify(values));
      const text = await renderedConfig(file);
      expect(() => parseConfig(text, `admin guide snippet ${i + 1}`)).not.toThrow();
    }
  });

  it('gives the kind e2e cluster a configuration that knows the e2e user, proposal and profile', async () => {
    const config = parseConfig(await renderedConfig(join(REPO_ROOT, 'e2e', 'kind', 'values.yaml')), 'e2e/kind/values.yaml');
    expect(config.profiles.map((p) => p.name)).toContain('jupyter-scipy');
    expect(config.directory.static?.users.map((u) => u.name)).toContain('alice');
    expect(config.proposals.static?.find((p) => p.id === '20231234')?.members).toContain('alice');
  });
});

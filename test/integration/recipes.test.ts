// SPDX-License-Identifier: Apache-2.0
/**
 * Notebook recipes and operator upgrades on the real control plane (kwok nodes): a recipe
 * outside the catalogue is refused by name; a catalogue recipe gives the pod its init
 * container and JupyterLab its notebook; an operator restarted with a configuration that
 * renders pods differently leaves running pods alone and says a restart is pending, while a
 * security change (the write window closing) and a change the user asks for still replace
 * the pod.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { V1Pod } from '@kubernetes/client-node';
import type { AnalysisSession } from '../../src/api/v1alpha1/analysis-session.ts';
import { core, freshNamespace, waitFor } from './helpers.ts';
import { deleteFreshNamespaces } from './cleanup.ts';
import { createDataset, patchDataset, readyIs, waitDataset } from './datasets.ts';
import { DEMO_CONFIG, startOperator } from './operator.ts';
import type { OperatorProcess } from './operator.ts';
import { createSession, getSession, isPhase, patchSession, readyReason, waitSession } from './sessions.ts';

let ns: string;
let operator: OperatorProcess | undefined;
const configFile = join(mkdtempSync(join(tmpdir(), 'panalysis-recipes-')), 'operator.yaml');
const config = parse(readFileSync(DEMO_CONFIG, 'utf8')) as Record<string, any>;
const inAWhile = (ms: number) => new Date(Date.now() + ms).toISOString().replace(/\.\d+Z$/, 'Z');
const pod = (name: string): Promise<V1Pod> => core().readNamespacedPod({ name, namespace: ns });
const condition = (s: AnalysisSession, type: string) => s.status?.conditions?.find((c) => c.type === type);
const mountOf = (p: V1Pod, path: string) => p.spec!.containers[0]!.volumeMounts!.find((m) => m.mountPath === path);

beforeAll(async () => {
  writeFileSync(configFile, stringify(config));
  operator = await startOperator({ config: configFile, resyncSeconds: 2 });
  ns = await freshNamespace('recipes', { 'panalysis.io/proposal': '20231234', 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' });
  await createDataset(ns, 'proc', { source: { hostPath: { path: '/gpfs/exfel/exp/p11/20231234/proc' } }, access: { readGroups: ['p20231234'], writeGroups: ['p20231234-writers'] }, mountPath: '/data/proc', readOnly: false, writableUntil: inAWhile(3600_000) });
  await waitDataset(ns, 'proc', 'Ready', readyIs('True'));
});
afterAll(async () => {
  await deleteFreshNamespaces(); // while the operator runs: session and dataset finalizers need it
  await operator?.stop();
});

describe('notebook recipes from the catalogue', () => {
  it('refuses a recipe outside the catalogue, and a git URL of the session, naming spec.template and the known recipes', async () => {
    await createSession(ns, 'planted', { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy', template: { recipe: 'planted' } });
    await createSession(ns, 'byurl', { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy', template: { git: { url: 'https://git.example/bob/planted.git' } } });
    const planted = await waitSession(ns, 'planted', 'refused', (s) => readyReason(s) === 'RecipeNotInCatalogue');
    expect(planted.status?.phase).toBe('Failed');
    expect(planted.status?.message).toBe('spec.template.recipe: "planted" is not in the recipe catalogue; recipes for profile jupyter-scipy: xas-basics, saxs-reduction');
    const byUrl = await waitSession(ns, 'byurl', 'refused', (s) => readyReason(s) === 'RecipeNotInCatalogue');
    expect(byUrl.status?.message).toMatch(/^spec\.template\.git: sources outside the recipe catalogue are refused; name a recipe with spec\.template\.recipe instead \(recipes for profile jupyter-scipy: xas-basics, saxs-reduction\)$/);
    await expect(pod('planted')).rejects.toThrow();
    await expect(pod('byurl')).rejects.toThrow();
  });

  it('copies a git recipe with an init container under restricted Pod Security, and opens its notebook', async () => {
    await createSession(ns, 'xas', { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy', template: { recipe: 'xas-basics' } });
    await waitSession(ns, 'xas', 'Running', isPhase('Running'));
    const p = await pod('xas');
    const init = p.spec!.initContainers!;
    expect(init.map((c) => c.name)).toEqual(['recipe']);
    const env = Object.fromEntries(init[0]!.env!.map((e) => [e.name, e.value]));
    expect(env).toMatchObject({ RECIPE: 'xas-basics', RECIPE_SOURCE: 'git', RECIPE_URL: 'https://git.facility.example/recipes/xas.git', RECIPE_REF: 'v1.2.0', RECIPE_PATH: 'basics', DEST: '/home/alice/xas-basics' });
    expect(init[0]!.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(init[0]!.image).toBe(p.spec!.containers[0]!.image);
    expect(p.spec!.containers[0]!.command).toContain('--LabApp.default_url=/lab/tree/xas-basics/normalise.ipynb');
  });

  it('mounts a ConfigMap recipe read-only into the init container only', async () => {
    await core().createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'recipe-saxs-reduction' }, data: { 'reduce.ipynb': '{"cells": []}' } } });
    await createSession(ns, 'saxs', { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy', template: { recipe: 'saxs-reduction' } });
    await waitSession(ns, 'saxs', 'Running', isPhase('Running'));
    const p = await pod('saxs');
    expect(p.spec!.volumes).toContainEqual(expect.objectContaining({ name: 'recipe', configMap: expect.objectContaining({ name: 'recipe-saxs-reduction' }) }));
    expect(p.spec!.initContainers![0]!.volumeMounts).toContainEqual({ name: 'recipe', mountPath: '/var/run/panalysis/recipe', readOnly: true });
    expect(p.spec!.containers[0]!.volumeMounts!.map((m) => m.name)).not.toContain('recipe');
  });
});

describe('an operator restarted with a new configuration', () => {
  it('leaves running pods alone and says a restart is pending; the write window closing and a change the user asks for still replace the pod', async () => {
    await createSession(ns, 'keep', { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy', datasets: [{ name: 'proc' }] });
    const before = await waitSession(ns, 'keep', 'Running', isPhase('Running'));
    expect(condition(before, 'RestartPending')).toBeUndefined();
    const first = await pod('keep');
    expect(mountOf(first, '/data/proc')?.readOnly ?? false).toBe(false);
    const xasUid = (await pod('xas')).metadata!.uid;

    // A new version (or configuration) renders the pods differently: another command, larger defaults.
    await operator!.stop();
    const changed = structuredClone(config);
    const scipy = changed.profiles.find((p: { name: string }) => p.name === 'jupyter-scipy');
    scipy.command = ['start-notebook.py', '--ServerApp.base_url=/'];
    scipy.defaults.cpu = 3;
    writeFileSync(configFile, stringify(changed));
    operator = await startOperator({ config: configFile, resyncSeconds: 2 });
    const pending = await waitSession(ns, 'keep', 'RestartPending', (s) => condition(s, 'RestartPending')?.status === 'True');
    expect(condition(pending, 'RestartPending')).toMatchObject({ reason: 'ConfigurationChanged', message: expect.stringMatching(/^The running pod differs in containers\.jupyter; the change applies at the next start/) });
    expect(pending.status?.phase).toBe('Running');
    await waitSession(ns, 'xas', 'RestartPending', (s) => condition(s, 'RestartPending')?.status === 'True');
    // Several resyncs later the pods are the same pods.
    await new Promise((r) => setTimeout(r, 6000));
    expect((await pod('keep')).metadata!.uid).toBe(first.metadata!.uid);
    expect((await pod('xas')).metadata!.uid).toBe(xasUid);

    // Security: the write window closes, so the pod is replaced with the data read-only (and the new configuration).
    const writableUntil = inAWhile(3000);
    await patchDataset(ns, 'proc', { writableUntil });
    let second: V1Pod | undefined;
    await waitFor('the pod replaced with /data/proc read-only', async () => {
      second = await pod('keep').catch(() => undefined);
      return second !== undefined && second.metadata!.uid !== first.metadata!.uid && mountOf(second, '/data/proc')?.readOnly === true;
    }, 60_000);
    expect(second!.spec!.containers[0]!.command).toEqual(scipy.command);
    const current = await waitSession(ns, 'keep', 'Running and current', (s) => isPhase('Running')(s) && condition(s, 'RestartPending')?.status === 'False');
    expect(condition(current, 'RestartPending')).toMatchObject({ reason: 'UpToDate' });

    // A change the user asks for replaces the pod too.
    await patchSession(ns, 'keep', { resources: { cpu: '2' } });
    let third: V1Pod | undefined;
    await waitFor('the pod replaced for the new request', async () => {
      third = await pod('keep').catch(() => undefined);
      return third !== undefined && third.metadata!.uid !== second!.metadata!.uid && third.spec!.containers[0]!.resources?.requests?.cpu === '2';
    }, 60_000);
    await waitSession(ns, 'keep', 'Running', isPhase('Running'));
    expect(condition(await getSession(ns, 'keep'), 'RestartPending')?.status).toBe('False');
  });
});

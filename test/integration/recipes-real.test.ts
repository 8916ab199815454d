// SPDX-License-Identifier: Apache-2.0
/**
 * A recipe on the local cluster's real node (kubelet, containerd, the locally built JupyterLab
 * image): the init container copies a ConfigMap recipe into home as the user, JupyterLab opens
 * its notebook, and the copy is made once: a user's edit and a deletion survive stop and resume,
 * and a newer recipe is not copied over them. Skipped, with the reason, where the real node
 * cannot run here.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { core, freshNamespace } from './helpers.ts';
import { deleteFreshNamespaces } from './cleanup.ts';
import { DEMO_CONFIG, startOperator } from './operator.ts';
import type { OperatorProcess } from './operator.ts';
import { execute } from './jupyter-client.ts';
import { createSession, isPhase, patchSession, waitSession } from './sessions.ts';

const realNode = inject('realNode');
const skipReason = realNode.ok || realNode.failed ? undefined : `no real node on this machine: ${realNode.why}`;

let ns = '';
let operator: OperatorProcess | undefined;
const notebook = (text: string) => JSON.stringify({ cells: [{ cell_type: 'markdown', metadata: {}, source: [text] }], metadata: {}, nbformat: 4, nbformat_minor: 5 });

async function jupyter(): Promise<{ base: string; token: string }> {
  const p = await core().readNamespacedPod({ name: 'cook', namespace: ns });
  const s = await core().readNamespacedSecret({ name: 'cook-credentials', namespace: ns });
  return { base: `http://${p.status!.podIP}:8888/s/${ns}/cook/`, token: Buffer.from(s.data!.token!, 'base64').toString() };
}
async function run(code: string): Promise<string> {
  const { base, token } = await jupyter();
  const out = await execute(base, token, code, { timeoutMs: 90_000 });
  expect(out.error).toBeUndefined();
  return out.stdout;
}
async function restart(): Promise<void> {
  await patchSession(ns, 'cook', { state: 'Stopped' });
  await waitSession(ns, 'cook', 'Stopped', isPhase('Stopped'), 120_000);
  await patchSession(ns, 'cook', { state: 'Running' });
  await waitSession(ns, 'cook', 'Running again', isPhase('Running'), 240_000);
}

describe('a recipe on the real node', () => {
  beforeEach((ctx) => {
    if (skipReason) ctx.skip(skipReason);
  });

  beforeAll(async () => {
    if (skipReason) return;
    if (realNode.failed) throw new Error(realNode.why);
    const config = parse(readFileSync(DEMO_CONFIG, 'utf8')) as Record<string, any>;
    config.recipes = [{ name: 'cookbook', technique: 'XAS', profiles: ['jupyter-local'], configMap: { name: 'recipe-cookbook' }, directory: 'xas/cookbook', open: 'intro.ipynb' }];
    const file = join(mkdtempSync(join(tmpdir(), 'panalysis-recipe-real-')), 'operator.yaml');
    writeFileSync(file, stringify(config));
    operator = await startOperator({ config: file });
    ns = await freshNamespace('recipe-real', { 'panalysis.io/proposal': '20231234', 'pod-security.kubernetes.io/enforce': 'restricted' });
    await core().createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'recipe-cookbook' }, data: { 'intro.ipynb': notebook('recipe v1'), 'params.txt': 'e0 = 7112\n', 'extra.txt': 'extra\n' } } });
    await createSession(ns, 'cook', { user: 'alice', type: 'jupyter', profile: 'jupyter-local', template: { recipe: 'cookbook' } });
  }, 120_000);

  afterAll(async () => {
    if (skipReason) return;
    await deleteFreshNamespaces();
    await operator?.stop();
  });

  it('copies the recipe into home as the user, and JupyterLab opens its notebook', async () => {
    await waitSession(ns, 'cook', 'Running', isPhase('Running'), 240_000);
    const listing = await run('import os\nd = os.path.expanduser("~/xas/cookbook")\nfor f in sorted(os.listdir(d)):\n  st = os.stat(os.path.join(d, f))\n  print(f, st.st_uid, oct(st.st_mode & 0o777))\nprint(open(os.path.join(d, "params.txt")).read(), end="")\nprint(os.path.exists(os.path.expanduser("~/.panalysis/recipes/cookbook")))');
    expect(listing).toBe('extra.txt 20001 0o644\nintro.ipynb 20001 0o644\nparams.txt 20001 0o644\ne0 = 7112\nTrue\n');
    const { base, token } = await jupyter();
    const res = await fetch(base, { redirect: 'manual', headers: { authorization: `token ${token}` } });
    expect(res.status).toBe(302);
    const notebookUrl = new URL(res.headers.get('location')!, base);
    expect(notebookUrl.pathname).toBe(`/s/${ns}/cook/lab/tree/xas/cookbook/intro.ipynb`);
    expect((await fetch(notebookUrl, { headers: { authorization: `token ${token}` } })).status).toBe(200);
  }, 300_000);

  it("copies once: the user's edit and deletion survive a restart, and a newer recipe is not copied over them", async () => {
    await run('import os\nd = os.path.expanduser("~/xas/cookbook")\nopen(os.path.join(d, "params.txt"), "w").write("e0 = 7120 (my fit)\\n")\nos.remove(os.path.join(d, "extra.txt"))');
    const cm = await core().readNamespacedConfigMap({ namespace: ns, name: 'recipe-cookbook' });
    cm.data = { 'intro.ipynb': notebook('recipe v2'), 'params.txt': 'e0 = 0\n', 'extra.txt': 'extra v2\n' };
    await core().replaceNamespacedConfigMap({ namespace: ns, name: 'recipe-cookbook', body: cm });
    await restart();
    const after = await run('import os\nd = os.path.expanduser("~/xas/cookbook")\nprint(sorted(os.listdir(d)))\nprint(open(os.path.join(d, "params.txt")).read(), end="")\nprint("recipe v1" in open(os.path.join(d, "intro.ipynb")).read())');
    expect(after).toBe("['intro.ipynb', 'params.txt']\ne0 = 7120 (my fit)\nTrue\n");
    // The init container said so in its log: nothing copied on this start.
    const log = await core().readNamespacedPodLog({ name: 'cook', namespace: ns, container: 'recipe' });
    expect(log).toMatch(/recipe cookbook: copied before, nothing to do/);
  }, 420_000);
});

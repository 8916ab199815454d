// SPDX-License-Identifier: Apache-2.0
/**
 * Sessions that really run: on the local cluster's real node (kubelet, containerd, runc) with the
 * locally built images, reached from the host as a browser would reach them (Jupyter's REST and
 * kernel WebSocket API with the session's token; VNC through the session's websockify port).
 * What is checked is what the user would see: the process runs as their uid, gid and exactly the
 * granted groups; POSIX permissions on the facility's data decide what a cell can read; a
 * read-only dataset refuses writes; home survives stop and resume; a desktop shows a picture.
 * Skipped, with the reason, where the real node cannot run here.
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { V1Pod } from '@kubernetes/client-node';
import { LOCAL_IMAGES } from '../../src/cluster/images.ts';
import { REAL_NODE_LABEL, REAL_NODE_TOLERATION } from '../../src/cluster/real-node-config.ts';
import { core, freshNamespace, waitFor } from './helpers.ts';
import { DEMO_CONFIG, startOperator } from './operator.ts';
import type { OperatorProcess } from './operator.ts';
import { createDataset, readyIs, waitDataset } from './datasets.ts';
import { createSession, getSession, isPhase, patchSession, waitSession } from './sessions.ts';
import { deleteFreshNamespaces } from './cleanup.ts';
import { execute, status } from './jupyter-client.ts';
import { blank, encodePng, rfbHandshake, screenshot } from './rfb.ts';

const realNode = inject('realNode');
const skipReason = realNode.ok || realNode.failed ? undefined : `no real node on this machine: ${realNode.why}`;

/** Proposal groups of the demo directory: alice is in p20231234 (30001) and p20231234-writers (30002). */
const PROPOSAL_GID = 30001;
const OTHER_GID = 39999;

let ns = '';
let operator: OperatorProcess | undefined;
let dataRoot = '';


/** The demo configuration (its jupyter-local and desktop-local profiles run on the real node) with the data root allowed for hostPath datasets. */
function realConfig(dir: string): string {
  const config = parse(readFileSync(DEMO_CONFIG, 'utf8')) as Record<string, any>;
  const local = config.profiles.find((p: { name: string }) => p.name === 'jupyter-local');
  expect(local).toMatchObject({ image: LOCAL_IMAGES.jupyterlab, nodeSelector: { [REAL_NODE_LABEL]: 'true' }, tolerations: [REAL_NODE_TOLERATION] });
  config.datasets.hostPath = [...(config.datasets.hostPath ?? []), dataRoot];
  const file = join(dir, 'operator.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

/** The facility's file system as the node mounts it: one directory per proposal, owned by the proposal's group, 0750. */
function makeData(root: string): void {
  chmodSync(root, 0o755);
  for (const [name, gid, text] of [['p20231234', PROPOSAL_GID, 'counts of run 1\n'], ['p20239999', OTHER_GID, 'not yours\n']] as const) {
    const dir = join(root, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'run1.txt'), text);
    chownSync(join(dir, 'run1.txt'), 0, gid);
    chmodSync(join(dir, 'run1.txt'), 0o640);
    chownSync(dir, 0, gid);
    chmodSync(dir, 0o750);
  }
}

/** The share of pixels that differ from the screen's most common colour (0 for an empty screen). */
function drawnFraction(s: { rgba: Buffer; width: number; height: number }): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < s.rgba.length; i += 4) {
    const c = s.rgba.readUInt32BE(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  return 1 - Math.max(...counts.values()) / (s.width * s.height);
}

const pod = (name: string): Promise<V1Pod> => core().readNamespacedPod({ name, namespace: ns });
async function secretOf(name: string, key: string): Promise<string> {
  const s = await core().readNamespacedSecret({ name: `${name}-credentials`, namespace: ns });
  return Buffer.from(s.data![key]!, 'base64').toString();
}
async function jupyterBase(name: string): Promise<{ base: string; token: string }> {
  const p = await pod(name);
  return { base: `http://${p.status!.podIP}:8888/s/${ns}/${name}/`, token: await secretOf(name, 'token') };
}
async function run(name: string, code: string) {
  const { base, token } = await jupyterBase(name);
  return execute(base, token, code, { timeoutMs: 90_000 });
}

describe('sessions on the real node', () => {
  beforeEach((ctx) => {
    if (skipReason) ctx.skip(skipReason);
  });

  beforeAll(async () => {
    if (skipReason) return;
    if (realNode.failed) throw new Error(realNode.why);
    const dir = mkdtempSync(join(tmpdir(), 'panalysis-real-'));
    dataRoot = join(dir, 'exp');
    mkdirSync(dataRoot);
    makeData(dataRoot);
    operator = await startOperator({ config: realConfig(dir) });
    ns = await freshNamespace('real', { 'panalysis.io/proposal': '20231234', 'pod-security.kubernetes.io/enforce': 'restricted' });
    await createDataset(ns, 'exp', { source: { hostPath: { path: dataRoot } }, access: { readGroups: ['p20231234'] }, mountPath: '/data/exp' });
    await waitDataset(ns, 'exp', 'Ready', readyIs('True'));
    await createSession(ns, 'alice-nb', { user: 'alice', type: 'jupyter', profile: 'jupyter-local', datasets: [{ name: 'exp' }] });
  }, 300_000);

  afterAll(async () => {
    if (skipReason) return;
    await deleteFreshNamespaces();
    await operator?.stop();
    rmSync(join(dataRoot, '..'), { recursive: true, force: true });
  });

  it('starts JupyterLab on the real node; its API answers with the session token and refuses without it', async () => {
    await waitSession(ns, 'alice-nb', 'Running', isPhase('Running'), 240_000);
    const p = await pod('alice-nb');
    expect(p.spec!.nodeName).toBe(realNode.name);
    expect(p.status!.containerStatuses![0]!.ready).toBe(true);
    const { base, token } = await jupyterBase('alice-nb');
    const ok = await status(base, token);
    expect(ok.status).toBe(200);
    expect((await status(base)).status).toBe(403);
    expect((await status(base, 'not-the-token')).status).toBe(403);
  }, 300_000);

  it("runs as the user's uid and gid with exactly the granted supplementary groups", async () => {
    const p = await pod('alice-nb');
    const granted = p.spec!.securityContext!.supplementalGroups!;
    expect(granted).toContain(PROPOSAL_GID);
    const out = await run('alice-nb', 'import os, subprocess\nprint(os.getuid(), os.getgid())\nprint(sorted(os.getgroups()))\nprint(subprocess.run(["id"], capture_output=True, text=True).stdout)');
    expect(out.error).toBeUndefined();
    const [ids, groups, id] = out.stdout.split('\n');
    expect(ids).toBe('20001 20001');
    expect(JSON.parse(groups!)).toEqual([...new Set([20001, ...granted])].sort((a, b) => a - b));
    expect(id).toMatch(/^uid=20001 gid=20001 groups=/);
  }, 120_000);

  it("reads the proposal's data, and the file system, not the operator, keeps another group's directory closed", async () => {
    const mine = await run('alice-nb', 'print(open("/data/exp/p20231234/run1.txt").read(), end="")');
    expect(mine.error).toBeUndefined();
    expect(mine.stdout).toBe('counts of run 1\n');
    const other = await run('alice-nb', 'import os\nos.listdir("/data/exp/p20239999")');
    expect(other.error?.ename).toBe('PermissionError');
    const file = await run('alice-nb', 'open("/data/exp/p20239999/run1.txt").read()');
    expect(file.error?.ename).toBe('PermissionError');
  }, 120_000);

  it('refuses writes to the read-only dataset and to the image root file system (EROFS), keeps what is written in home across stop and resume', async () => {
    const ro = await run('alice-nb', 'import errno\nfor p in ["/data/exp/p20231234/new.txt", "/var/tmp/new.txt"]:\n  try:\n    open(p, "w")\n    print("written", p)\n  except OSError as e:\n    print(errno.errorcode[e.errno], p)');
    // /var/tmp is writable for everyone in the image (1777): only the read-only root refuses it.
    expect(ro.stdout).toBe('EROFS /data/exp/p20231234/new.txt\nEROFS /var/tmp/new.txt\n');
    const home = await run('alice-nb', 'import os\nopen(os.path.expanduser("~/notes.txt"), "w").write("beamtime notes\\n")\nprint(os.path.expanduser("~"))');
    expect(home.error).toBeUndefined();
    expect(home.stdout).toBe('/home/alice\n');
    await patchSession(ns, 'alice-nb', { state: 'Stopped' });
    await waitSession(ns, 'alice-nb', 'Stopped', isPhase('Stopped'), 120_000);
    await patchSession(ns, 'alice-nb', { state: 'Running' });
    await waitSession(ns, 'alice-nb', 'Running again', isPhase('Running'), 240_000);
    const back = await run('alice-nb', 'import os\nprint(open(os.path.expanduser("~/notes.txt")).read(), end="")');
    expect(back.stdout).toBe('beamtime notes\n');
  }, 420_000);

  it('shows a desktop: the VNC port answers the RFB handshake and the screen is not blank', async () => {
    await createSession(ns, 'alice-desk', { user: 'alice', type: 'desktop', profile: 'desktop-local', desktop: { protocol: 'vnc' } });
    await waitSession(ns, 'alice-desk', 'Running', isPhase('Running'), 240_000);
    const p = await pod('alice-desk');
    expect(p.spec!.nodeName).toBe(realNode.name);
    const url = `ws://${p.status!.podIP}:6080/`;
    const password = await secretOf('alice-desk', 'vnc-password');
    const hello = await rfbHandshake(url, password);
    expect(hello.serverVersion).toBe('RFB 003.008');
    expect(hello.securityTypes).toContain(2);
    // The desktop draws itself (background, panel, icons) a while after the VNC server starts; a
    // screen with only the pointer on it is not a desktop yet (a desktop here: 1% of the pixels
    // off the background, thousands of colours).
    let shot = await screenshot(url, password);
    try {
      await waitFor('the desktop to draw itself', async () => {
        shot = await screenshot(url, password);
        return !blank(shot) && drawnFraction(shot) > 0.01 && shot.distinctColours > 64;
      }, 120_000, '', 2000);
    } finally {
      mkdirSync('test/results', { recursive: true });
      writeFileSync('test/results/real-node-desktop.png', encodePng(shot));
    }
    expect(shot.distinctColours).toBeGreaterThan(64); // a panel and icons, not a pointer on an empty screen
  }, 300_000);

  it('does not place a GPU session on the real node (it has none) and says why, while a kwok GPU node takes one', async () => {
    await createSession(ns, 'gpu-real', { user: 'alice', type: 'jupyter', profile: 'jupyter-local', resources: { gpu: { flavour: 'a100', count: 1 } } });
    await createSession(ns, 'gpu-kwok', { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy', resources: { gpu: { flavour: 'a100', count: 1 } } });
    await waitSession(ns, 'gpu-kwok', 'Running on a GPU node', isPhase('Running'), 120_000);
    const s = await waitSession(ns, 'gpu-real', 'a scheduling verdict', (x) => x.status?.conditions?.some((c) => c.type === 'Scheduled' && c.status === 'False') ?? false, 120_000);
    const scheduled = s.status!.conditions!.find((c) => c.type === 'Scheduled')!;
    expect(scheduled.message).toMatch(/nvidia\.com\/gpu|node affinity|selector/);
    expect((await pod('gpu-real')).spec!.nodeName ?? '').toBe('');
    expect((await getSession(ns, 'gpu-real')).status?.phase).not.toBe('Running');
  }, 300_000);
});

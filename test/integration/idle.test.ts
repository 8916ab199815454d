// SPDX-License-Identifier: Apache-2.0
/**
 * Idle culling end to end with real parts: the operator and the gateway (with its JupyterLab
 * activity poll) on the test cluster, JupyterLab and a TigerVNC desktop on its real node, and
 * headless Chromium. Short real timeouts (2 minutes, warned 1 minute before) stand for hours:
 * the activity JupyterLab and the gateway report is real time, so the operator's clock is not
 * moved here. What is checked is what a scientist would see: an idle session is warned, then
 * stopped, and opening it starts it again on the same home; a kernel computing without output
 * and an open desktop keep theirs running; the gateway's polls are not activity; the desktop's
 * page shows the notice that the session ends soon.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { LAST_ACTIVITY_ANNOTATION } from '../../src/api/v1alpha1/group.ts';
import { sessionHostLabel } from '../../src/desired/session-url.ts';
import { launchBrowser, screenshotPath } from './browser.ts';
import { deleteFreshNamespaces } from './cleanup.ts';
import { PASSWORDS, readConfig, startGatewayRig } from './gateway-harness.ts';
import type { GatewayRig } from './gateway-harness.ts';
import { core, freshNamespace, waitFor } from './helpers.ts';
import { execute } from './jupyter-client.ts';
import { DEMO_CONFIG, startOperator } from './operator.ts';
import type { OperatorProcess } from './operator.ts';
import { createSession, getSession, isPhase, waitSession } from './sessions.ts';
import type { AnalysisSession } from '../../src/api/v1alpha1/analysis-session.ts';

const realNode = inject('realNode');
const skipReason = realNode.ok || realNode.failed ? undefined : `no real node on this machine: ${realNode.why}`;

let ns = '';
let dir = '';
let operator: OperatorProcess | undefined;
let rig: GatewayRig;
let browser: Browser;
let alice: BrowserContext;

const url = (name: string) => `http://${sessionHostLabel(ns, name)}.sessions.localhost:${rig.port}/s/${ns}/${name}/`;
const cond = (s: AnalysisSession, type: string) => s.status?.conditions?.find((c) => c.type === type);

async function podOf(name: string): Promise<{ uid: string; ip: string }> {
  const pod = await core().readNamespacedPod({ name, namespace: ns });
  return { uid: pod.metadata!.uid!, ip: pod.status!.podIP! };
}

async function tokenOf(name: string): Promise<string> {
  const s = await core().readNamespacedSecret({ name: `${name}-credentials`, namespace: ns });
  return Buffer.from(s.data!.token!, 'base64').toString();
}

/** The session's Events by reason, with their times. */
async function eventsOf(name: string): Promise<Array<{ reason: string; at: number; note: string }>> {
  const list = await core().listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${name},involvedObject.kind=AnalysisSession` });
  return list.items.map((e) => ({ reason: e.reason ?? '', at: new Date(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? 0).getTime(), note: e.message ?? '' }));
}

async function signIn(page: Page, user: string): Promise<void> {
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(PASSWORDS[user]!);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe('idle culling', () => {
  beforeEach((ctx) => {
    if (skipReason) ctx.skip(skipReason);
  });

  beforeAll(async () => {
    if (skipReason) return;
    if (realNode.failed) throw new Error(realNode.why);
    dir = mkdtempSync(join(tmpdir(), 'panalysis-idle-'));
    const config = readConfig(DEMO_CONFIG);
    config.lifecycle = { ...config.lifecycle, idle: { timeout: '2m', warnBefore: '1m' } };
    config.gateway = { ...config.gateway, activity: { jupyterPoll: '5s', writeInterval: '5s' } };
    rig = await startGatewayRig(dir, config);
    operator = await startOperator({ config: rig.configFile });
    ns = await freshNamespace('idle', { 'panalysis.io/proposal': '20231234', 'pod-security.kubernetes.io/enforce': 'restricted' });
    await createSession(ns, 'idle-nb', { user: 'alice', type: 'jupyter', profile: 'jupyter-local' });
    await createSession(ns, 'busy-nb', { user: 'alice', type: 'jupyter', profile: 'jupyter-local' });
    // Its lifetime is within the first warning's lead time (1h): its pages show that it ends soon from the start.
    await createSession(ns, 'desk', { user: 'alice', type: 'desktop', profile: 'desktop-local', desktop: { protocol: 'vnc' }, lifetime: '50m' });
    browser = await launchBrowser();
    alice = await browser.newContext();
  }, 300_000);

  afterAll(async () => {
    if (skipReason) return;
    await browser?.close();
    await deleteFreshNamespaces();
    await operator?.stop();
    await rig?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('warns, then stops an idle JupyterLab however often the gateway polls it, keeps a computing kernel and an open desktop running, and starts the idle one again when it is opened', async () => {
    for (const name of ['idle-nb', 'busy-nb', 'desk']) await waitSession(ns, name, 'Running', isPhase('Running'), 240_000);
    // A cell that computes for minutes without output, sent to JupyterLab directly (not through the gateway):
    // only JupyterLab's own account (a busy kernel) can tell the gateway that this session is in use.
    const busy = await podOf('busy-nb');
    let cellEnded = '';
    void execute(`http://${busy.ip}:8888/s/${ns}/busy-nb/`, await tokenOf('busy-nb'), 'import time\ntime.sleep(420)\n"done"', { timeoutMs: 480_000 })
      .then((r) => (cellEnded = `finished: ${JSON.stringify(r)}`), (err: Error) => (cellEnded = `failed: ${err.message}`));
    // The desktop, open in a browser: nobody types, but a scientist may be watching a long computation.
    const page = await alice.newPage();
    await page.goto(url('desk'));
    await signIn(page, 'alice');
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 90_000 }).toBe('Connected');
    await expect.poll(() => page.locator('#panalysis-notice').textContent(), { timeout: 30_000 }).toMatch(/The session stops at .*, in less than 1h, at the end of its lifetime/);
    await page.screenshot({ path: screenshotPath('idle-desktop-notice') });
    const desk = await podOf('desk');
    const idleRun = (await getSession(ns, 'idle-nb')).status!.runStartedAt!;

    const warned = await waitSession(ns, 'idle-nb', 'the Idle warning', (s) => cond(s, 'Idle')?.status === 'True', 150_000);
    expect(cond(warned, 'Idle')).toMatchObject({ reason: 'IdleSoon', message: expect.stringMatching(/^No activity since .*: the session stops at .* \(idle timeout 2m\) unless it is used\.$/) });
    expect(warned.status?.phase).toBe('Running');
    const stopped = await waitSession(ns, 'idle-nb', 'the idle stop', isPhase('Stopped'), 150_000);
    expect(cond(stopped, 'Ready')).toMatchObject({ status: 'False', reason: 'IdleTimeout', message: expect.stringContaining('open it to start it again on the same home') });
    await expect(core().readNamespacedPod({ name: 'idle-nb', namespace: ns })).rejects.toMatchObject({ code: 404 });
    const stopAt = Date.parse(cond(stopped, 'Ready')!.lastTransitionTime!);
    expect(stopAt - Date.parse(idleRun)).toBeGreaterThanOrEqual(120_000);
    // Warned first, as an Event too.
    const events = await eventsOf('idle-nb');
    const soon = events.find((e) => e.reason === 'IdleSoon');
    expect(soon, JSON.stringify(events)).toBeDefined();
    expect(soon!.at).toBeLessThan(stopAt);
    expect(events.some((e) => e.reason === 'IdleTimeout')).toBe(true);
    // The gateway asked this JupyterLab for its activity every 5 s while it ran; what it recorded is JupyterLab's own start, not its polls.
    const recorded = Date.parse(stopped.metadata.annotations?.[LAST_ACTIVITY_ANNOTATION] ?? '');
    expect(recorded).toBeLessThan(Date.parse(idleRun) + 60_000);

    // Half a minute past its own timeout too, the computing session and the watched desktop run on the same pods.
    await new Promise((r) => setTimeout(r, 30_000));
    for (const [name, pod] of [['busy-nb', busy], ['desk', desk]] as const) {
      const s = await getSession(ns, name);
      expect(Date.now() - Date.parse(s.status!.runStartedAt!), name).toBeGreaterThan(150_000);
      expect(s.status?.phase, name).toBe('Running');
      expect(cond(s, 'Idle'), name).toMatchObject({ status: 'False', reason: 'Active' });
      expect((await podOf(name)).uid, name).toBe(pod.uid);
    }
    expect(cellEnded).toBe('');

    // Opening the stopped session (which is activity) starts a new run on the same home.
    const home = (await core().readNamespacedPersistentVolumeClaim({ name: 'idle-nb-home', namespace: ns })).metadata!.uid;
    const again = await alice.newPage();
    await again.goto(url('idle-nb'));
    await waitFor('the woken session to start again', async () => (await getSession(ns, 'idle-nb')).status?.phase === 'Running', 240_000, '', 1000);
    const woken = await getSession(ns, 'idle-nb');
    expect(Date.parse(woken.status!.runStartedAt!)).toBeGreaterThan(stopAt);
    expect((await core().readNamespacedPersistentVolumeClaim({ name: 'idle-nb-home', namespace: ns })).metadata!.uid).toBe(home);
    await again.waitForSelector('.jp-LabShell', { timeout: 120_000 });
    await again.close();
    await page.close();
  }, 900_000);
});

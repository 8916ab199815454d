// SPDX-License-Identifier: Apache-2.0
/**
 * The way in, end to end with real parts only: the local OpenID provider, the operator and
 * the gateway on the test cluster, sessions running on its real node (JupyterLab and a
 * TigerVNC desktop from the locally built images), and headless Chromium driven by
 * playwright-core. What is checked is what a scientist (and the scientist next door) would
 * see in their browser. Screenshots go to test/results/screenshots/.
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { sessionHostLabel } from '../../src/desired/session-url.ts';
import { Sealer } from '../../src/gateway/seal.ts';
import { launchBrowser, screenshotPath } from './browser.ts';
import { deleteFreshNamespaces } from './cleanup.ts';
import { createDataset, readyIs, waitDataset } from './datasets.ts';
import { PASSWORDS, rawRequest, rawUpgrade, readConfig, startGatewayRig } from './gateway-harness.ts';
import type { GatewayRig } from './gateway-harness.ts';
import { core, freshNamespace, waitFor } from './helpers.ts';
import { DEMO_CONFIG, startOperator } from './operator.ts';
import type { OperatorProcess } from './operator.ts';
import { createSession, isPhase, patchSession, waitSession } from './sessions.ts';

// Browser globals of the page.evaluate callbacks (the project is type-checked without the DOM library).
declare const document: { cookie: string };
declare const location: { host: string };
declare const window: unknown;

const realNode = inject('realNode');
const skipReason = realNode.ok || realNode.failed ? undefined : `no real node on this machine: ${realNode.why}`;

let ns = '';
let dir = '';
let operator: OperatorProcess | undefined;
let rig: GatewayRig;
let browser: Browser;
let alice: BrowserContext;
const tickets: string[] = [];

const host = (name: string) => `${sessionHostLabel(ns, name)}.sessions.localhost:${rig.port}`;
const url = (name: string) => `http://${host(name)}/s/${ns}/${name}/`;

async function secretOf(name: string, key: string): Promise<string> {
  const s = await core().readNamespacedSecret({ name: `${name}-credentials`, namespace: ns });
  return Buffer.from(s.data![key]!, 'base64').toString();
}

/** Fills the provider's sign-in form (the page must show it). */
async function signIn(page: Page, user: string): Promise<void> {
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(PASSWORDS[user]!);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** A new browser context for `user`, signed in by opening `start`. */
async function signedIn(user: string, start: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('request', (r) => {
    if (r.url().includes('/_panalysis/session-callback?ticket=')) tickets.push(r.url());
  });
  await page.goto(start);
  await signIn(page, user);
  await page.waitForLoadState('load');
  return { context, page };
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: screenshotPath(`gateway-${name}`) });
}

/** The facility's file system as the node mounts it: the proposal's directory, group 30001, 0750. */
function makeData(root: string): void {
  chmodSync(root, 0o755);
  const d = join(root, 'p20231234');
  mkdirSync(d);
  writeFileSync(join(d, 'run1.txt'), 'counts of run 1\n');
  chownSync(join(d, 'run1.txt'), 0, 30001);
  chmodSync(join(d, 'run1.txt'), 0o640);
  chownSync(d, 0, 30001);
  chmodSync(d, 0o750);
}

describe('the gateway in a real browser', () => {
  beforeEach((ctx) => {
    if (skipReason) ctx.skip(skipReason);
  });

  beforeAll(async () => {
    if (skipReason) return;
    if (realNode.failed) throw new Error(realNode.why);
    dir = mkdtempSync(join(tmpdir(), 'panalysis-gw-'));
    const dataRoot = join(dir, 'exp');
    mkdirSync(dataRoot);
    makeData(dataRoot);
    const config = readConfig(DEMO_CONFIG);
    config.datasets.hostPath = [...(config.datasets.hostPath ?? []), dataRoot];
    rig = await startGatewayRig(dir, config);
    operator = await startOperator({ config: rig.configFile });
    ns = await freshNamespace('gw', { 'panalysis.io/proposal': '20231234', 'pod-security.kubernetes.io/enforce': 'restricted' });
    await createDataset(ns, 'exp', { source: { hostPath: { path: dataRoot } }, access: { readGroups: ['p20231234'] }, mountPath: '/data/exp' });
    await waitDataset(ns, 'exp', 'Ready', readyIs('True'));
    await createSession(ns, 'alice-nb', { user: 'alice', type: 'jupyter', profile: 'jupyter-local', datasets: [{ name: 'exp' }], sharedWith: { users: ['bob'] } });
    await createSession(ns, 'alice-b', { user: 'alice', type: 'jupyter', profile: 'jupyter-local' });
    await createSession(ns, 'alice-desk', { user: 'alice', type: 'desktop', profile: 'desktop-local', desktop: { protocol: 'vnc' } });
    browser = await launchBrowser();
  }, 300_000);

  afterAll(async () => {
    if (skipReason) return;
    await browser?.close();
    await deleteFreshNamespaces();
    await operator?.stop();
    await rig?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes the session\u2019s own origin into status.url and sends someone without a login to the provider', async () => {
    const s = await waitSession(ns, 'alice-nb', 'Running', isPhase('Running'), 240_000);
    expect(s.status?.url).toBe(url('alice-nb'));
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(url('alice-nb'));
    expect(page.url().startsWith(rig.idp.issuer)).toBe(true);
    await expect.poll(() => page.getByLabel('Username').isVisible()).toBe(true);
    await shot(page, 'provider-sign-in');
    await context.close();
  }, 300_000);

  it('lets the owner in: JupyterLab runs a cell that computes a value and reads the mounted dataset, and the browser never sees the token', async () => {
    const signed = await signedIn('alice', url('alice-nb'));
    alice = signed.context;
    const page = signed.page;
    expect(page.url()).toContain(`${host('alice-nb')}/s/${ns}/alice-nb/`);
    await page.waitForSelector('.jp-LabShell', { timeout: 90_000 });
    const base = `/s/${ns}/alice-nb/`;
    const created = await page.evaluate(async (b) => {
      const nb = {
        type: 'notebook',
        content: {
          cells: [{ cell_type: 'code', source: 'print(6 * 7, open("/data/exp/p20231234/run1.txt").read().strip())', metadata: {}, outputs: [], execution_count: null }],
          metadata: { kernelspec: { name: 'python3', display_name: 'Python 3 (ipykernel)', language: 'python' } }, nbformat: 4, nbformat_minor: 5,
        },
      };
      const r = await fetch(`${b}api/contents/check.ipynb`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(nb) });
      return r.status;
    }, base);
    expect(created).toBe(201);
    await page.goto(`${url('alice-nb')}lab/tree/check.ipynb`);
    const cell = page.locator('.jp-Notebook .jp-Cell .cm-content').first();
    await cell.waitFor({ timeout: 90_000 });
    const output = page.locator('.jp-OutputArea-output').first();
    // The notebook opens before its kernel has started; run the cell again until it has (running it twice is harmless).
    let text = '';
    for (let attempt = 0; attempt < 6 && !text.includes('42 counts of run 1'); attempt++) {
      await cell.click();
      await page.keyboard.press('Shift+Enter');
      await output.waitFor({ timeout: 20_000 }).catch(() => undefined);
      text = (await output.textContent().catch(() => '')) ?? '';
    }
    expect(text).toContain('42 counts of run 1');
    await shot(page, 'jupyterlab-cell');
    const token = await secretOf('alice-nb', 'token');
    expect(token.length).toBeGreaterThan(20);
    expect(await page.content()).not.toContain(token);
    const cookies = await alice.cookies();
    expect(cookies.map((c) => c.value).join(' ')).not.toContain(token);
    expect(cookies.find((c) => c.name === 'panalysis-session')).toMatchObject({ domain: host('alice-nb').split(':')[0], httpOnly: true, sameSite: 'Lax' });
    expect(cookies.find((c) => c.name === 'panalysis-login')).toMatchObject({ domain: 'localhost', httpOnly: true });
  }, 300_000);

  it('lets a collaborator in sharedWith in; another member of the proposal and a user outside it get 403 with the reason', async () => {
    const bob = await signedIn('bob', url('alice-nb'));
    await bob.page.waitForSelector('.jp-LabShell', { timeout: 90_000 });
    await bob.context.close();
    for (const user of ['dave', 'carol']) {
      const other = await signedIn(user, url('alice-nb'));
      await expect.poll(() => other.page.locator('h1').textContent()).toBe('Access denied');
      const text = await other.page.locator('main').textContent();
      expect(text).toContain(`belongs to alice and is not shared with you (${user})`);
      expect(text).toContain('NotShared');
      await shot(other.page, `forbidden-${user}`);
      await other.context.close();
    }
  }, 180_000);

  it('refuses forged, expired and replayed cookies and tickets, WebSockets without a login or from another origin, open redirects and dot segments to another session', async () => {
    const cookie = (await alice.cookies()).find((c) => c.name === 'panalysis-session' && c.domain === host('alice-nb').split(':')[0])!;
    const own = `http://${host('alice-nb')}`;
    const api = `/s/${ns}/alice-nb/api/status`;
    expect((await rawRequest(rig.port, host('alice-nb'), api, { cookie: `panalysis-session=${cookie.value}` })).status).toBe(200);
    // Forged, altered, expired, and another session's cookie.
    const sealer = new Sealer(rig.cookieKey, () => Date.now() - 3_600_000);
    const expired = await sealer.seal('session', { user: 'alice', groups: [], label: sessionHostLabel(ns, 'alice-nb'), uid: 'x', loginExp: Date.now() + 3_600_000 }, 600);
    const forged = await new Sealer(Buffer.alloc(48, 1)).seal('session', { user: 'alice', groups: [], label: sessionHostLabel(ns, 'alice-nb'), uid: 'x', loginExp: Date.now() + 3_600_000 }, 600);
    for (const value of ['garbage', forged, expired, `${cookie.value.slice(0, -4)}AAAA`]) {
      expect((await rawRequest(rig.port, host('alice-nb'), api, { cookie: `panalysis-session=${value}` })).status).toBe(401);
    }
    expect((await rawRequest(rig.port, host('alice-b'), `/s/${ns}/alice-b/api/status`, { cookie: `panalysis-session=${cookie.value}` })).status).toBe(401);
    // A navigation without a valid cookie is sent to sign in, not served.
    const nav = await rawRequest(rig.port, host('alice-nb'), `/s/${ns}/alice-nb/lab`, { cookie: 'panalysis-session=garbage', 'sec-fetch-mode': 'navigate' });
    expect(nav.status).toBe(303);
    expect(nav.headers.location).toBe(`${rig.baseUrl}/_panalysis/authorize?session=${encodeURIComponent(`${ns}/alice-nb`)}&next=${encodeURIComponent(`/s/${ns}/alice-nb/lab`)}`);
    // A used ticket does not work again, nor in another browser.
    expect(tickets.length).toBeGreaterThan(0);
    const replay = await browser.newContext();
    const rp = await replay.newPage();
    await rp.goto(tickets[0]!);
    expect(await rp.locator('main').textContent()).toContain('InvalidTicket');
    await replay.close();
    // WebSockets: none without a login, none from another origin even with the cookie.
    const ws = `/s/${ns}/alice-nb/api/events/subscribe`;
    expect(await rawUpgrade(rig.port, host('alice-nb'), ws, { origin: own })).toBe(401);
    expect(await rawUpgrade(rig.port, host('alice-nb'), ws, { origin: `http://${host('alice-b')}`, cookie: `panalysis-session=${cookie.value}` })).toBe(403);
    expect(await rawUpgrade(rig.port, host('alice-nb'), ws, { origin: own, cookie: `panalysis-session=${cookie.value}` })).toBe(101);
    // Open redirects: after sign-in and after the hand-over, only paths on the same origin.
    const login = (await alice.cookies()).find((c) => c.name === 'panalysis-login')!;
    for (const next of ['//evil.example/', 'https://evil.example/', '/\\evil.example', `/s/${ns}/alice-b/`]) {
      const r = await rawRequest(rig.port, `localhost:${rig.port}`, `/_panalysis/authorize?session=${ns}/alice-nb&next=${encodeURIComponent(next)}`, { cookie: `panalysis-login=${login.value}` });
      expect(r.status).toBe(303);
      const to = new URL(r.headers.location!);
      expect(to.host).toBe(host('alice-nb'));
      expect(to.searchParams.get('next')).toBe(`/s/${ns}/alice-nb/`);
    }
    const start = await rawRequest(rig.port, `localhost:${rig.port}`, '/_panalysis/login?next=//evil.example/');
    expect(start.status).toBe(303);
    expect(new URL(start.headers.location!).origin).toBe(rig.idp.issuer);
    // Dot segments (plain and encoded) never lead from one session's origin to another session.
    for (const path of [`/s/${ns}/alice-nb/../alice-b/api/status`, `/s/${ns}/alice-nb/%2e%2e/alice-b/api/status`, `/s/${ns}/alice-b/api/status`]) {
      expect((await rawRequest(rig.port, host('alice-nb'), path, { cookie: `panalysis-session=${cookie.value}` })).status).toBe(404);
    }
    // A session host that does not exist.
    expect((await rawRequest(rig.port, `nope--${ns}.sessions.localhost:${rig.port}`, '/')).status).toBe(404);
  }, 120_000);

  it('keeps what one session serves from reading or driving another session or the gateway with the viewer\u2019s cookies', async () => {
    await waitSession(ns, 'alice-b', 'Running', isPhase('Running'), 240_000);
    // Alice opens session B once, so her browser holds B's cookie too.
    const b = await alice.newPage();
    await b.goto(url('alice-b'));
    await b.waitForSelector('.jp-LabShell', { timeout: 90_000 });
    const control = await b.evaluate(async (path) => {
      const r = await fetch(`${path}api/contents`);
      const opened = await new Promise<boolean>((resolve) => {
        const ws = new WebSocket(`ws://${location.host}${path}api/events/subscribe`);
        ws.onopen = () => resolve(true);
        ws.onerror = () => resolve(false);
      });
      return { status: r.status, opened };
    }, `/s/${ns}/alice-b/`);
    expect(control).toEqual({ status: 200, opened: true });
    // Script on session A's pages acting on session B and on the gateway.
    const a = await alice.newPage();
    await a.goto(url('alice-nb'));
    await a.waitForSelector('.jp-LabShell', { timeout: 90_000 });
    const attack = await a.evaluate(async ({ other, gateway, path }) => {
      const out: Record<string, unknown> = { cookies: document.cookie };
      try {
        const r = await fetch(`${other}${path}api/contents`, { credentials: 'include' });
        out.read = `status ${r.status}`;
      } catch (e) {
        out.read = `blocked: ${(e as Error).name}`;
      }
      await fetch(`${other}${path}api/contents`, { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ type: 'file', ext: '.txt' }) }).catch(() => undefined);
      try {
        const r = await fetch(`${gateway}/`, { credentials: 'include' });
        out.gateway = `status ${r.status}`;
      } catch (e) {
        out.gateway = `blocked: ${(e as Error).name}`;
      }
      out.ws = await new Promise<boolean>((resolve) => {
        const ws = new WebSocket(`${other.replace('http', 'ws')}${path}api/events/subscribe`);
        ws.onopen = () => resolve(true);
        ws.onerror = () => resolve(false);
      });
      return out;
    }, { other: `http://${host('alice-b')}`, gateway: rig.baseUrl, path: `/s/${ns}/alice-b/` });
    // Jupyter's own _xsrf cookie is readable by its pages; the gateway's cookies are not.
    expect(attack.cookies).not.toContain('panalysis');
    expect({ ...attack, cookies: undefined }).toEqual({ cookies: undefined, read: 'blocked: TypeError', gateway: 'blocked: TypeError', ws: false });
    // The forged POST created nothing in B.
    const files = await b.evaluate(async (path) => ((await (await fetch(`${path}api/contents`)).json()) as { content: Array<{ name: string }> }).content.map((f: { name: string }) => f.name), `/s/${ns}/alice-b/`);
    expect(files.filter((f: string) => f.startsWith('untitled'))).toEqual([]);
    await a.close();
    await b.close();
  }, 300_000);

  it('shows the desktop through noVNC: the screen has a picture and typed keys reach the desktop', async () => {
    await waitSession(ns, 'alice-desk', 'Running', isPhase('Running'), 240_000);
    const page = await alice.newPage();
    await page.goto(url('alice-desk'));
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 60_000 }).toBe('Connected');
    const canvas = page.locator('canvas').first();
    let colours = 0;
    await waitFor('the desktop to draw itself', async () => {
      colours = await canvas.evaluate((c: any) => {
        const d: Uint8ClampedArray = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const seen = new Set<number>();
        for (let i = 0; i < d.length; i += 4) seen.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
        return seen.size;
      });
      return colours > 64;
    }, 120_000, '', 2000);
    await shot(page, 'desktop');
    const before = await inputCount();
    await canvas.click();
    await page.keyboard.type('hello');
    await waitFor('key events at the desktop', async () => (await inputCount()) > before, 15_000);
    expect(await page.content()).not.toContain(await secretOf('alice-desk', 'vnc-password'));
    await page.close();
  }, 300_000);

  it('shows a session that is not ready as a waiting page with its phase and status message', async () => {
    await createSession(ns, 'alice-wait', { user: 'alice', type: 'jupyter', profile: 'jupyter-local', resources: { gpu: { flavour: 'a100', count: 1 } } });
    const waiting = await waitSession(ns, 'alice-wait', 'a scheduling verdict', (x) => x.status?.conditions?.some((c) => c.type === 'Scheduled' && c.status === 'False') ?? false, 120_000);
    const page = await alice.newPage();
    await page.goto(url('alice-wait'));
    await expect.poll(() => page.locator('h1').textContent()).toBe(`Your session ${ns}/alice-wait is starting`);
    expect(await page.locator('#phase').textContent()).toBe(waiting.status?.phase);
    expect(await page.locator('#message').textContent()).toMatch(/nvidia\.com\/gpu|node affinity|selector|GPU/);
    await shot(page, 'waiting');
    await page.close();
  }, 300_000);

  it('closes a collaborator\u2019s open WebSocket and refuses the next request once sharing is revoked, and the owner\u2019s once the session stops', async () => {
    const bob = await signedIn('bob', url('alice-nb'));
    await bob.page.waitForSelector('.jp-LabShell', { timeout: 90_000 });
    const path = `/s/${ns}/alice-nb/`;
    await bob.page.evaluate((p) => {
      const w = window as unknown as { closedWith?: number };
      const ws = new WebSocket(`ws://${location.host}${p}api/events/subscribe`);
      ws.onclose = (e) => (w.closedWith = e.code);
    }, path);
    await patchSession(ns, 'alice-nb', { sharedWith: { users: [] } });
    await bob.page.waitForFunction(() => (window as unknown as { closedWith?: number }).closedWith !== undefined, undefined, { timeout: 20_000 });
    const status = await bob.page.evaluate(async (p) => (await fetch(`${p}api/status`)).status, path);
    expect(status).toBe(403);
    await bob.context.close();
    // Stopping a session closes its owner's open connections too, and its next page is the waiting page.
    const page = await alice.newPage();
    await page.goto(url('alice-b'));
    await page.waitForSelector('.jp-LabShell', { timeout: 90_000 });
    await page.evaluate((p) => {
      const w = window as unknown as { closedWith?: number };
      const ws = new WebSocket(`ws://${location.host}${p}api/events/subscribe`);
      ws.onclose = (e) => (w.closedWith = e.code);
    }, `/s/${ns}/alice-b/`);
    await patchSession(ns, 'alice-b', { state: 'Stopped' });
    await page.waitForFunction(() => (window as unknown as { closedWith?: number }).closedWith !== undefined, undefined, { timeout: 60_000 });
    await page.close();
  }, 240_000);

  it('signs out at the gateway and the provider', async () => {
    const page = await alice.newPage();
    await page.goto(`${rig.baseUrl}/_panalysis/logout`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    // The provider asks too (RP-initiated logout), then sends the browser back.
    await page.waitForURL((u) => u.href.startsWith(rig.idp.issuer));
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.href.startsWith(`${rig.baseUrl}/_panalysis/logged-out`));
    await shot(page, 'signed-out');
    expect((await alice.cookies()).find((c) => c.name === 'panalysis-login')).toBeUndefined();
    await page.goto(`${rig.baseUrl}/`);
    expect(page.url().startsWith(rig.idp.issuer)).toBe(true);
    await page.close();
  }, 60_000);

  async function inputCount(): Promise<number> {
    const text = await rig.gateway.manager.metrics.render();
    const m = /^panalysis_gateway_desktop_input_total(?:\{[^}]*\})? (\d+)/m.exec(text);
    return m ? Number(m[1]) : 0;
  }
});

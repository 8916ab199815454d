// SPDX-License-Identifier: Apache-2.0
/**
 * The session lifecycle on the real local control plane, with the operator's clock moved
 * by its testing-only offset file: a session stopped or expired while the directory is
 * down loses its pod; a pod that loses readiness after Ready still ends on time; warnings
 * (condition and Event) precede the stop; renewals and their limits, a lifetime above the
 * maximum and the end of the beamtime act at the right instants; stop and resume keep the
 * home claim and the usage records; stopped sessions past the retention period are
 * deleted with their home.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { AnalysisSession } from '../../src/api/v1alpha1/analysis-session.ts';
import { freePort, probe } from '../../src/cluster/wait.ts';
import { DEMO_CONFIG, spawnOperator } from '../../src/operator/spawn.ts';
import { deleteFreshNamespaces } from './cleanup.ts';
import { isGone } from './gone.ts';
import { core, custom, freshNamespace, kubectl, waitFor } from './helpers.ts';
import { createQuota } from './quota.ts';
import { createSession, getSession, isPhase, patchSession, readyReason, waitSession } from './sessions.ts';

const H = 3600_000;
const dir = mkdtempSync(join(tmpdir(), 'panalysis-lifecycle-'));
const configFile = join(dir, 'operator.yaml');
const clockFile = join(dir, 'clock-offset');
/** The end of the test proposal's beamtime, far enough ahead that the other tests end before it. */
const BEAMTIME_END = Math.floor(Date.now() / H) * H + 100 * 24 * H;
const iso = (t: number): string => new Date(t).toISOString().replace('.000Z', 'Z');

function config(directoryDown = false): Record<string, any> {
  const c = parse(readFileSync(DEMO_CONFIG, 'utf8')) as Record<string, any>;
  c.lifecycle = { warnings: ['1h', '10m'], renewals: { step: '1h', maxCount: 2, maxTotal: '11h30m' }, afterBeamtime: '1h', retention: '7d' };
  c.profiles = c.profiles.map((p: any) => (p.name === 'jupyter-scipy' ? { ...p, lifecycle: { maxLifetime: '10h' } } : p));
  c.proposals.static.push({ id: 'lifecycle', members: ['alice'], beamtime: { start: iso(BEAMTIME_END - 5 * 24 * H), end: iso(BEAMTIME_END) } });
  if (directoryDown) {
    // Nothing listens on port 1: every lookup fails as "the directory cannot be reached".
    writeFileSync(join(dir, 'bind-password'), 'secret');
    c.directory = { provider: 'ldap', minId: 1000, ldap: { url: 'ldap://127.0.0.1:1', bindDN: 'cn=reader,dc=facility,dc=test', bindPasswordFile: join(dir, 'bind-password'), userBase: 'ou=people,dc=facility,dc=test', groupBase: 'ou=groups,dc=facility,dc=test', timeoutMs: 1000, cacheTtlSeconds: 1, negativeCacheTtlSeconds: 1 } };
  }
  return c;
}

/** Moves the operator's clock so that its "now" is `t` (ms since the epoch). */
/** Moves the operator's clock to `t` and waits until the operator says it did (it polls the file). */
async function setClock(t: number): Promise<void> {
  const offset = Math.round(t - Date.now());
  writeFileSync(clockFile, String(offset));
  await waitFor(`the operator's clock to move by ${offset} ms`, async () => logs.join('').includes(`"offsetMs":${offset}`), 15_000);
}

let operator: ChildProcess;
const logs: string[] = [];

beforeAll(async () => {
  writeFileSync(configFile, stringify(config()));
  writeFileSync(clockFile, '0');
  const port = await freePort();
  operator = spawnOperator({ kubeconfig: inject('kubeconfig'), port, config: configFile, args: ['--config-poll-ms', '300', '--resync-seconds', '2', '--testing-clock-offset-file', clockFile], stdio: ['ignore', 'pipe', 'pipe'] });
  operator.stdout!.on('data', (d: Buffer) => logs.push(d.toString()));
  operator.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
  await waitFor('the operator to be ready', async () => {
    if (operator.exitCode !== null) throw new Error(`operator exited: ${logs.join('')}`);
    return (await probe(`http://127.0.0.1:${port}/readyz`)) === 200;
  }, 30_000);
}, 60_000);

afterAll(async () => {
  await deleteFreshNamespaces(); // while the operator runs: session finalizers need it
  const exited = new Promise((r) => operator.once('exit', r));
  if (operator.exitCode === null) operator.kill('SIGTERM');
  await exited;
});

const jupyter = (extra: Partial<AnalysisSession['spec']> = {}): AnalysisSession['spec'] => ({ user: 'alice', type: 'jupyter', profile: 'jupyter-scipy', ...extra });
const cond = (s: AnalysisSession, type: string) => s.status?.conditions?.find((c) => c.type === type);
const podGone = (ns: string, name: string) => waitFor(`pod ${ns}/${name} to be gone`, () => isGone(() => core().readNamespacedPod({ name, namespace: ns })), 30_000);
const time = (s: AnalysisSession, key: 'runStartedAt' | 'expiresAt' | 'stoppedAt'): number => Date.parse(s.status![key]!);
async function events(ns: string, name: string): Promise<Array<{ reason: string; note: string }>> {
  const list = await core().listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${name}` });
  return list.items.map((e) => ({ reason: e.reason ?? '', note: e.message ?? '' }));
}
const waitEvent = (ns: string, name: string, reason: string, note: RegExp) =>
  waitFor(`an Event ${reason} of ${name} saying ${note}`, async () => (await events(ns, name)).some((e) => e.reason === reason && note.test(e.note)), 30_000);

describe('the lifecycle holds on every path', () => {
  it('a session stopped, or expiring, while the directory is down loses its pod', async () => {
    const ns = await freshNamespace('life-down');
    await createSession(ns, 'stopme', jupyter());
    await createSession(ns, 'expireme', jupyter({ lifetime: '1h' }));
    await waitSession(ns, 'stopme', 'Running', isPhase('Running'));
    const expireme = await waitSession(ns, 'expireme', 'Running', isPhase('Running'));
    writeFileSync(configFile, stringify(config(true)));
    try {
      await waitSession(ns, 'stopme', 'the outage seen', (s) => cond(s, 'IdentityResolved')?.reason === 'DirectoryUnavailable');
      await patchSession(ns, 'stopme', { state: 'Stopped' });
      await waitSession(ns, 'stopme', 'Stopped', isPhase('Stopped'));
      await podGone(ns, 'stopme');
      await setClock(time(expireme, 'expiresAt') + 1000);
      const expired = await waitSession(ns, 'expireme', 'Expired', isPhase('Expired'));
      expect(readyReason(expired)).toBe('LifetimeExpired');
      await podGone(ns, 'expireme');
      expect(cond(await getSession(ns, 'expireme'), 'IdentityResolved')?.reason).toBe('DirectoryUnavailable');
    } finally {
      writeFileSync(configFile, stringify(config()));
    }
    // The directory back: the expired session stays expired.
    await waitSession(ns, 'stopme', 'the directory not asked for a stopped session', isPhase('Stopped'));
    await new Promise((r) => setTimeout(r, 3000));
    expect((await getSession(ns, 'expireme')).status?.phase).toBe('Expired');
  });

  it('a pod that loses readiness after Ready ends on time; warnings (condition and Event) precede the stop', async () => {
    const ns = await freshNamespace('life-flap');
    await createSession(ns, 'flappy', jupyter({ lifetime: '2h' }));
    const running = await waitSession(ns, 'flappy', 'Running', isPhase('Running'));
    const end = time(running, 'expiresAt');
    expect(end - time(running, 'runStartedAt')).toBe(2 * H);
    // The container crash-loops: the pod is not Ready any more (a restart count, Ready False), then Ready again.
    const notReady = { status: { conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: new Date().toISOString() }, { type: 'ContainersReady', status: 'False', lastTransitionTime: new Date().toISOString() }] } };
    await kubectl('patch', 'pod', 'flappy', '-n', ns, '--subresource=status', '--type=strategic', '-p', JSON.stringify(notReady));
    await new Promise((r) => setTimeout(r, 3000));
    const flapped = await getSession(ns, 'flappy');
    expect(flapped.status?.runStartedAt).toBe(running.status?.runStartedAt);
    expect(flapped.status?.expiresAt).toBe(running.status?.expiresAt);
    await setClock(end - 59 * 60_000);
    await waitSession(ns, 'flappy', 'warned an hour ahead', (s) => cond(s, 'Expiring')?.reason === 'ExpiresWithin1h');
    await waitEvent(ns, 'flappy', 'ExpiresWithin1h', /in less than 1h/);
    await setClock(end - 9 * 60_000);
    const warned = await waitSession(ns, 'flappy', 'warned ten minutes ahead', (s) => cond(s, 'Expiring')?.reason === 'ExpiresWithin10m');
    expect(cond(warned, 'Expiring')?.message).toContain(`The session stops at ${iso(end)}`);
    expect(warned.status?.expiresAt).toBe(running.status?.expiresAt);
    await waitEvent(ns, 'flappy', 'ExpiresWithin10m', /in less than 10m/);
    expect((await core().readNamespacedPod({ name: 'flappy', namespace: ns })).metadata?.deletionTimestamp).toBeUndefined();
    await setClock(end + 1000);
    await waitSession(ns, 'flappy', 'Expired', isPhase('Expired'));
    await podGone(ns, 'flappy');
    await waitEvent(ns, 'flappy', 'LifetimeExpired', /lifetime/);
  });

  it('renewals extend the run within policy; beyond it they are refused naming the limit; a lifetime above the maximum is refused', async () => {
    const ns = await freshNamespace('life-renew');
    await createSession(ns, 'toolong', jupyter({ lifetime: '12h' }));
    const refused = await waitSession(ns, 'toolong', 'refused', (s) => readyReason(s) === 'LifetimeTooLong');
    expect(refused.status?.message).toContain('spec.lifetime: 12h is above the maximum of 10h (profiles[jupyter-scipy].lifecycle.maxLifetime)');
    await createSession(ns, 'renew', jupyter({ lifetime: '10h' }));
    const running = await waitSession(ns, 'renew', 'Running', isPhase('Running'));
    const start = time(running, 'runStartedAt');
    await patchSession(ns, 'renew', { renewals: 1 });
    const once = await waitSession(ns, 'renew', 'renewed once', (s) => cond(s, 'Renewed')?.status === 'True');
    expect(time(once, 'expiresAt')).toBe(start + 11 * H);
    await patchSession(ns, 'renew', { renewals: 2 });
    const capped = await waitSession(ns, 'renew', 'the total reached', (s) => cond(s, 'Renewed')?.status === 'False');
    expect(cond(capped, 'Renewed')?.message).toContain('lifecycle.renewals.maxTotal');
    expect(time(capped, 'expiresAt')).toBe(start + 11.5 * H);
    await patchSession(ns, 'renew', { renewals: 3 });
    await waitSession(ns, 'renew', 'the count exceeded', (s) => /lifecycle\.renewals\.maxCount/.test(cond(s, 'Renewed')?.message ?? ''));
    await waitEvent(ns, 'renew', 'RenewalRefused', /lifecycle\.renewals\.maxTotal/);
    await setClock(start + 11.5 * H - 2000);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await getSession(ns, 'renew')).status?.phase).toBe('Running');
    await setClock(start + 11.5 * H + 1000);
    await waitSession(ns, 'renew', 'Expired', isPhase('Expired'));
    await podGone(ns, 'renew');
  });

  it('the end of the beamtime plus grace ends a run before its lifetime, and no run starts after it', async () => {
    const ns = await freshNamespace('life-beam', { 'panalysis.io/proposal': 'lifecycle' });
    await setClock(BEAMTIME_END - H);
    await createSession(ns, 'beam', jupyter({ lifetime: '8h' }));
    const running = await waitSession(ns, 'beam', 'Running', isPhase('Running'));
    expect(running.status?.expiresAt).toBe(iso(BEAMTIME_END + H));
    await setClock(BEAMTIME_END + H + 1000);
    const ended = await waitSession(ns, 'beam', 'Expired', isPhase('Expired'));
    expect(readyReason(ended)).toBe('BeamtimeEnded');
    await podGone(ns, 'beam');
    await createSession(ns, 'late', jupyter());
    const late = await waitSession(ns, 'late', 'Expired', isPhase('Expired'));
    expect(late.status?.runStartedAt).toBeUndefined();
    expect(await isGone(() => core().readNamespacedPod({ name: 'late', namespace: ns }))).toBe(true);
  });

  it('stop and resume keep the home claim, the credentials and the usage; retention deletes a stopped session with its home', async () => {
    const ns = await freshNamespace('life-resume');
    await createQuota(ns, 'policy', { hard: { sessions: 4 } });
    await createSession(ns, 'resumer', jupyter());
    const first = await waitSession(ns, 'resumer', 'Running', isPhase('Running'));
    const home = (await core().readNamespacedPersistentVolumeClaim({ name: 'resumer-home', namespace: ns })).metadata!.uid;
    const secret = (await core().readNamespacedSecret({ name: 'resumer-credentials', namespace: ns })).metadata!.uid;
    await patchSession(ns, 'resumer', { state: 'Stopped' });
    const paused = await waitSession(ns, 'resumer', 'Stopped', (s) => isPhase('Stopped')(s) && s.status?.stoppedAt !== undefined);
    const usage = async () => ((await custom().listNamespacedCustomObject({ group: 'panalysis.io', version: 'v1alpha1', plural: 'usagerecords', namespace: ns })) as { items: Array<{ spec: { session: string } }> }).items.filter((r) => r.spec.session === 'resumer').length;
    await waitFor('the first run\'s usage record', async () => (await usage()) === 1, 30_000);
    await patchSession(ns, 'resumer', { state: 'Running' });
    // The second run (timestamps have whole seconds: a quick stop and resume may share the first run's second).
    const again = await waitSession(ns, 'resumer', 'Running again', (s) => isPhase('Running')(s) && s.status?.quota?.run === (first.status?.quota?.run ?? 0) + 1);
    expect(time(again, 'runStartedAt')).toBeGreaterThanOrEqual(time(paused, 'stoppedAt'));
    expect(again.status?.stoppedAt).toBeUndefined();
    expect((await core().readNamespacedPersistentVolumeClaim({ name: 'resumer-home', namespace: ns })).metadata!.uid).toBe(home);
    expect((await core().readNamespacedSecret({ name: 'resumer-credentials', namespace: ns })).metadata!.uid).toBe(secret);
    expect(await usage()).toBe(1);

    await patchSession(ns, 'resumer', { state: 'Stopped' });
    const stopped = await waitSession(ns, 'resumer', 'Stopped with its stop recorded', (s) => isPhase('Stopped')(s) && s.status?.stoppedAt !== undefined);
    await setClock(time(stopped, 'stoppedAt') + 7 * 24 * H - 60_000);
    await new Promise((r) => setTimeout(r, 2500));
    expect((await getSession(ns, 'resumer')).metadata.deletionTimestamp).toBeUndefined();
    await setClock(time(stopped, 'stoppedAt') + 7 * 24 * H + 1000);
    await waitFor('the session to be deleted', () => isGone(() => getSession(ns, 'resumer')), 30_000);
    await waitEvent(ns, 'resumer', 'RetentionExpired', /retention period/);
    await waitFor('its home claim to be deleted', () => isGone(() => core().readNamespacedPersistentVolumeClaim({ name: 'resumer-home', namespace: ns })), 60_000);
    expect(await usage()).toBe(2);
  });
});

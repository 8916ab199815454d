// SPDX-License-Identifier: Apache-2.0
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { decideSession } from './decide.ts';
import type { IdentityFact, SessionFacts } from './decide.ts';
import { demoConfig, makeSession, readyPod } from '../../../test/fixtures/session.ts';
import type { AnalysisSession } from '../../api/v1alpha1/analysis-session.ts';
import { parseQuantity } from '../../api/quantity.ts';

const config = demoConfig();
const NOW = Date.parse('2026-11-25T12:00:00Z');
const alice: IdentityFact = { kind: 'found', identity: { user: 'alice', uid: 20001, gid: 20001, groups: [{ name: 'p1', gid: 30001 }] } };
const facts = (extra: Partial<SessionFacts> = {}): SessionFacts => ({ identity: alice, credentials: { secret: 'tok' }, namespaceUid: 'ns-uid', ...extra });
const kinds = (objs: Array<{ kind?: string }>) => objs.map((o) => o.kind);
const podOf = (plan: ReturnType<typeof decideSession>) => plan.apply.find((o) => o.kind === 'Pod') as V1Pod | undefined;
const cond = (plan: ReturnType<typeof decideSession>, type: string) => plan.status.conditions?.find((c) => c.type === type);

describe('decideSession', () => {
  it('creates credentials, home, network policy and pod (no Service: the gateway connects to the pod\'s IP) for a new jupyter session', () => {
    const plan = decideSession(makeSession('nb').obj(), facts(), config, NOW);
    expect(kinds(plan.apply)).toEqual(['Secret', 'PersistentVolumeClaim', 'NetworkPolicy', 'Pod']);
    expect(plan.status.phase).toBe('Pending');
    expect(plan.status.url).toBe('http://nb--proposal-1.sessions.localhost:8080/s/proposal-1/nb/');
    const c = podOf(plan)!.spec!.containers[0]!;
    expect(c.command).toContain('--ServerApp.base_url=/s/proposal-1/nb/');
    expect(c.readinessProbe?.httpGet?.path).toBe('/s/proposal-1/nb/api');
    expect(c.env).toContainEqual({ name: 'JUPYTER_TOKEN_FILE', value: '/var/run/panalysis/credentials/token' });
  });

  it('runs the pod as the user with the restricted security context', () => {
    const pod = podOf(decideSession(makeSession('nb').obj(), facts(), config, NOW))!;
    expect(pod.spec!.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 20001, runAsGroup: 20001, supplementalGroups: [100], seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.spec!.securityContext!.fsGroup).toBeUndefined();
    expect(pod.spec!.automountServiceAccountToken).toBe(false);
    for (const c of pod.spec!.containers) expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  });

  const desktops: Record<string, ['vnc' | 'guacamole', string[], number]> = {
    'a noVNC desktop gets a websockify bridge': ['vnc', ['desktop', 'websockify'], 6080],
    'a Guacamole desktop gets its own guacd': ['guacamole', ['desktop', 'guacd'], 4822],
  };
  it.each(Object.entries(desktops))('%s', (_name, [protocol, containers, port]) => {
    const plan = decideSession(makeSession('desk').desktop(protocol).obj(), facts(), config, NOW);
    expect(podOf(plan)!.spec!.containers.map((c) => c.name)).toEqual(containers);
    const np = plan.apply.find((o) => o.kind === 'NetworkPolicy') as any;
    // The namespace's one policy admits the gateway on the port of each kind of session.
    expect(np.metadata).toMatchObject({ name: 'panalysis-sessions', ownerReferences: [{ kind: 'Namespace', name: 'proposal-1', uid: 'ns-uid', controller: true }] });
    expect(np.spec.ingress[0].ports).toContainEqual({ port, protocol: 'TCP' });
    expect(np.spec.ingress[0].ports).toEqual([8888, 6080, 4822].map((p) => ({ port: p, protocol: 'TCP' })));
    expect(np.spec.ingress[0].from[0].namespaceSelector.matchLabels).toEqual({ 'kubernetes.io/metadata.name': 'panalysis-system' });
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np.spec.egress[0].ports).toEqual([{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }]);
    expect(np.spec.egress[1].to[0].ipBlock.except).toContain('10.0.0.0/8');
    expect(np.spec.egress[1].to[0].ipBlock.except).toContain('169.254.0.0/16');
    const desktop = podOf(plan)!.spec!.containers[0]!;
    expect(desktop.ports).toBeUndefined();
    expect(desktop.command!.join(' ')).toMatch(/Xvnc :1 -localhost/);
  });

  it('maps a GPU flavour to its resource, node selector and toleration', () => {
    const pod = podOf(decideSession(makeSession('g').gpu('a100-1g', 2).obj(), facts(), config, NOW))!;
    expect(pod.spec!.containers[0]!.resources!.limits).toMatchObject({ 'nvidia.com/mig-1g.10gb': '2' });
    expect(pod.spec!.nodeSelector).toEqual({ 'nvidia.com/mig.strategy': 'mixed' });
    expect(pod.spec!.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
  });

  it("places a session where its profile says, adding a GPU flavour's selector and tolerations", () => {
    const onReal = { ...config, profiles: config.profiles.map((p) => p.name === 'jupyter-scipy' ? { ...p, nodeSelector: { 'panalysis.io/real-node': 'true' }, tolerations: [{ key: 'panalysis.io/real-node', operator: 'Exists' as const, effect: 'NoSchedule' as const }] } : p) };
    const plain = podOf(decideSession(makeSession('p').obj(), facts(), onReal, NOW))!;
    expect(plain.spec!.nodeSelector).toEqual({ 'panalysis.io/real-node': 'true' });
    expect(plain.spec!.tolerations).toEqual([{ key: 'panalysis.io/real-node', operator: 'Exists', effect: 'NoSchedule' }]);
    const gpu = podOf(decideSession(makeSession('g').gpu('a100-1g', 1).obj(), facts(), onReal, NOW))!;
    expect(gpu.spec!.nodeSelector).toEqual({ 'panalysis.io/real-node': 'true', 'nvidia.com/mig.strategy': 'mixed' });
    expect(gpu.spec!.tolerations!.map((t) => t.key)).toEqual(['panalysis.io/real-node', 'nvidia.com/gpu']);
    const none = podOf(decideSession(makeSession('n').obj(), facts(), config, NOW))!;
    expect(none.spec!.nodeSelector).toBeUndefined();
    expect(none.spec!.tolerations).toBeUndefined();
  });

  const refusals: Record<string, [AnalysisSession, IdentityFact, string, RegExp]> = {
    'an unknown profile': [makeSession('x').spec({ profile: 'matlab' }).obj(), alice, 'UnknownProfile', /spec\.profile: unknown profile "matlab"; profiles for jupyter sessions: jupyter-scipy/],
    'a desktop profile for a notebook': [makeSession('x').spec({ profile: 'desktop-xfce' }).obj(), alice, 'ProfileTypeMismatch', /desktop profile but spec\.type is jupyter/],
    'a flavour the profile does not offer': [makeSession('x').gpu('h100', 1).obj(), alice, 'GpuFlavourNotAllowed', /spec\.resources\.gpu\.flavour: "h100".*allowed flavours: a100, a100-1g/],
    'too many GPUs': [makeSession('x').gpu('a100', 5).obj(), alice, 'GpuCountTooHigh', /spec\.resources\.gpu\.count: 5 exceeds the limit of 4/],
    'more CPU than the profile allows': [makeSession('x').spec({ resources: { cpu: 64 } }).obj(), alice, 'ResourcesTooHigh', /spec\.resources\.cpu: 64 exceeds the limit 16/],
    'a lifetime above policy': [makeSession('x').spec({ lifetime: '100h' }).obj(), alice, 'LifetimeTooLong', /spec\.lifetime: 100h exceeds the maximum of 3d/],
    'an unknown user': [makeSession('x').obj(), { kind: 'missing' }, 'UserNotFound', /spec\.user: "alice" does not exist/],
    'uid 0 from the directory': [makeSession('x').obj(), { kind: 'found', identity: { user: 'alice', uid: 0, gid: 0, groups: [] } }, 'InvalidIdentity', /uid 0\/gid 0.*1000 or higher/],
  };
  it.each(Object.entries(refusals))('refuses %s with a condition naming the field', (_name, [session, identity, reason, message]) => {
    const plan = decideSession(session, facts({ identity }), config, NOW);
    expect(plan.apply).toEqual([]);
    expect(plan.status.phase).toBe('Failed');
    expect(cond(plan, 'Ready')).toMatchObject({ status: 'False', reason });
    expect(plan.status.message).toMatch(message);
  });

  it('waits and retries while the directory is down', () => {
    const plan = decideSession(makeSession('x').obj(), facts({ identity: { kind: 'unavailable', message: 'timeout' } }), config, NOW);
    expect(plan.status.phase).toBe('Pending');
    expect(cond(plan, 'IdentityResolved')).toMatchObject({ status: 'Unknown', reason: 'DirectoryUnavailable' });
    expect(plan.requeueAfterMs).toBe(30_000);
  });

  it('reports Running with the recorded run start, first Ready, expiry, node and digest, and requeues at the first warning', () => {
    const first = decideSession(makeSession('nb').obj(), facts(), config, Date.parse('2026-11-25T11:00:00Z'));
    expect(first.status.runStartedAt).toBe('2026-11-25T11:00:00Z');
    const pod = readyPod(podOf(first)!, 'kwok-cpu-0', '2026-11-25T11:00:40Z');
    const plan = decideSession(makeSession('nb').status(first.status).obj(), facts({ pod }), config, NOW);
    expect(plan.status).toMatchObject({ phase: 'Running', node: 'kwok-cpu-0', runStartedAt: '2026-11-25T11:00:00Z', startedAt: '2026-11-25T11:00:40Z', expiresAt: '2026-11-25T19:00:00Z', imageDigest: `sha256:${'a'.repeat(64)}` });
    expect(cond(plan, 'Expiring')).toMatchObject({ status: 'False', reason: 'NotDue' });
    expect(plan.requeueAfterMs).toBe(6 * 3600_000);
    expect(kinds(plan.apply)).not.toContain('Pod');
  });

  it('stops an expired session and keeps it stopped', () => {
    const first = decideSession(makeSession('nb').obj(), facts(), config, Date.parse('2026-11-25T03:00:00Z'));
    const pod = readyPod(podOf(first)!, 'kwok-cpu-0', '2026-11-25T03:00:10Z');
    const plan = decideSession(makeSession('nb').status(first.status).obj(), facts({ pod }), config, NOW);
    expect(plan.delete).toEqual([{ apiVersion: 'v1', kind: 'Pod', namespace: 'proposal-1', name: 'nb', uid: 'pod-uid-nb' }]);
    expect(cond(plan, 'Ready')).toMatchObject({ status: 'False', reason: 'LifetimeExpired' });
    const gone = decideSession(makeSession('nb').status(plan.status).obj(), facts(), config, NOW + 1000);
    expect(gone.status.phase).toBe('Expired');
    expect(gone.status.expiresAt).toBe('2026-11-25T11:00:00Z');
    expect(kinds(gone.apply)).not.toContain('Pod');
  });

  it('stops an idle session after a warning, keeps it stopped without new activity, and starts a new run when it is opened', () => {
    const idleConfig = { ...config, lifecycle: { ...config.lifecycle, idle: { timeout: '2h', warnBefore: '10m' } } };
    const at = (t: string) => Date.parse(t);
    const withActivity = (b: ReturnType<typeof makeSession>, t: string) => {
      const o = b.obj();
      o.metadata.annotations = { 'panalysis.io/last-activity': t };
      return o;
    };
    const first = decideSession(makeSession('nb').obj(), facts(), idleConfig, at('2026-11-25T08:00:00Z'));
    const pod = readyPod(podOf(first)!, 'kwok-cpu-0', '2026-11-25T08:00:30Z');
    const running = decideSession(withActivity(makeSession('nb').status(first.status), '2026-11-25T09:00:00Z'), facts({ pod }), idleConfig, at('2026-11-25T09:30:00Z'));
    expect(cond(running, 'Idle')).toMatchObject({ status: 'False', reason: 'Active', message: 'The session stops after 2h without activity.' });
    expect(running.requeueAfterMs).toBe(90 * 60_000 - 10 * 60_000);
    const warned = decideSession(withActivity(makeSession('nb').status(running.status), '2026-11-25T09:00:00Z'), facts({ pod }), idleConfig, at('2026-11-25T10:50:00Z'));
    expect(cond(warned, 'Idle')).toMatchObject({ status: 'True', reason: 'IdleSoon' });
    expect(warned.delete).toEqual([]);
    const stopping = decideSession(withActivity(makeSession('nb').status(warned.status), '2026-11-25T09:00:00Z'), facts({ pod }), idleConfig, at('2026-11-25T11:00:00Z'));
    expect(stopping.delete.map((r) => r.kind)).toEqual(['Pod']);
    expect(cond(stopping, 'Ready')).toMatchObject({ status: 'False', reason: 'IdleTimeout' });
    expect(stopping.status.phase).toBe('Stopping');
    // The pod is gone: stopped, and it stays so however much time passes, until activity newer than the stop.
    const stopped = decideSession(withActivity(makeSession('nb').status(stopping.status), '2026-11-25T09:00:00Z'), facts(), idleConfig, at('2026-11-25T11:00:05Z'));
    expect(stopped.status.phase).toBe('Stopped');
    expect(stopped.status.runStartedAt).toBeUndefined();
    expect(kinds(stopped.apply)).not.toContain('Pod');
    const later = decideSession(withActivity(makeSession('nb').status(stopped.status), '2026-11-25T09:00:00Z'), facts(), idleConfig, at('2026-11-26T11:00:00Z'));
    expect(later.status.phase).toBe('Stopped');
    expect(kinds(later.apply)).not.toContain('Pod');
    const opened = decideSession(withActivity(makeSession('nb').status(later.status), '2026-11-26T11:00:00Z'), facts(), idleConfig, at('2026-11-26T11:00:02Z'));
    expect(kinds(opened.apply)).toContain('Pod');
    expect(opened.status.runStartedAt).toBe('2026-11-26T11:00:02Z');
  });

  it('deletes the pod but keeps home and credentials when stopped (nothing else is touched)', () => {
    const first = decideSession(makeSession('nb').obj(), facts(), config, NOW);
    const pod = readyPod(podOf(first)!, 'kwok-cpu-0', '2026-11-25T11:00:00Z');
    const plan = decideSession(makeSession('nb').stopped().status(first.status).obj(), facts({ pod }), config, NOW);
    expect(plan.delete.map((r) => r.kind)).toEqual(['Pod']);
    expect(kinds(plan.apply)).toEqual([]);
    expect(plan.status.phase).toBe('Stopping');
    expect(plan.status.runStartedAt).toBeUndefined();
    const stopped = decideSession(makeSession('nb').stopped().obj(), facts(), config, NOW);
    expect(stopped.status.phase).toBe('Stopped');
    expect(stopped.status.stoppedAt).toBe('2026-11-25T12:00:00Z');
  });

  it('expires a run on time whatever its pod does after Ready (restarts, readiness lost), also while the directory is down', () => {
    const first = decideSession(makeSession('nb').obj(), facts(), config, Date.parse('2026-11-25T04:00:00Z'));
    const ready = readyPod(podOf(first)!, 'kwok-cpu-0', '2026-11-25T04:00:30Z');
    const crashing: V1Pod = { ...ready, status: { ...ready.status, conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False', lastTransitionTime: '2026-11-25T11:59:00Z' as never }], containerStatuses: [{ ...ready.status!.containerStatuses![0]!, ready: false, restartCount: 9 }] } };
    const flapped = readyPod(ready, 'kwok-cpu-0', '2026-11-25T11:59:30Z');
    for (const pod of [crashing, flapped]) {
      const before = decideSession(makeSession('nb').status(first.status).obj(), facts({ pod }), config, Date.parse('2026-11-25T11:59:59Z'));
      expect(before.status.expiresAt).toBe('2026-11-25T12:00:00Z');
      expect(before.delete).toEqual([]);
      const down = decideSession(makeSession('nb').status(first.status).obj(), facts({ pod, identity: { kind: 'unavailable', message: 'down' } }), config, NOW);
      expect(down.delete.map((r) => r.kind)).toEqual(['Pod']);
    }
  });

  it('records the run start once: from the pod\'s creation only for a status written before runStartedAt existed', () => {
    const pod = readyPod(podOf(decideSession(makeSession('nb').obj(), facts(), config, NOW))!, 'kwok-cpu-0', '2026-11-25T10:00:30Z');
    pod.metadata!.creationTimestamp = '2026-11-25T10:00:00Z' as never;
    // The pod carries its run's start, on the operator's clock: it stands for the status until that is written or cached.
    expect(pod.metadata!.annotations!['panalysis.io/run-started-at']).toBe('2026-11-25T12:00:00Z');
    expect(decideSession(makeSession('nb').obj(), facts({ pod }), config, NOW + 4000).status.runStartedAt).toBe('2026-11-25T12:00:00Z');
    // A pod made by an older version carries none: its creation when it agrees with the clock, else now; never readiness.
    delete pod.metadata!.annotations!['panalysis.io/run-started-at'];
    expect(decideSession(makeSession('nb').obj(), facts({ pod }), config, NOW).status.runStartedAt).toBe('2026-11-25T12:00:00Z');
    expect(decideSession(makeSession('nb').obj(), facts({ pod }), config, Date.parse('2026-11-25T10:01:00Z')).status.runStartedAt).toBe('2026-11-25T10:00:00Z');
    const older = makeSession('nb').status({ phase: 'Running', startedAt: '2026-11-25T10:00:30Z', expiresAt: '2026-11-25T18:00:30Z' }).obj();
    expect(decideSession(older, facts({ pod }), config, NOW).status).toMatchObject({ runStartedAt: '2026-11-25T10:00:00Z', expiresAt: '2026-11-25T18:00:00Z' });
  });

  it('takes the run start the pod carries only near the pod\'s creation: an edited annotation does not stretch the lifetime', () => {
    const pod = readyPod(podOf(decideSession(makeSession('nb').obj(), facts(), config, NOW))!, 'kwok-cpu-0', '2026-11-25T12:00:02Z');
    pod.metadata!.creationTimestamp = '2026-11-25T12:00:01Z' as never;
    const at = (annotation: string, now = NOW + 3000) => {
      pod.metadata!.annotations!['panalysis.io/run-started-at'] = annotation;
      const plan = decideSession(makeSession('nb').obj(), facts({ pod }), config, now);
      return { start: plan.status.runStartedAt, expires: plan.status.expiresAt };
    };
    // The operator's own record, a second before the apiserver's creation time, stands.
    expect(at('2026-11-25T12:00:00Z')).toEqual({ start: '2026-11-25T12:00:00Z', expires: '2026-11-25T20:00:00Z' });
    // Dated ahead (a longer lifetime, fewer GPU hours), back, or not a time: the apiserver's creation time counts.
    for (const forged of ['2099-01-01T00:00:00Z', '2026-11-25T14:00:00Z', '2026-11-25T11:58:00Z', 'soon']) {
      expect(at(forged)).toEqual({ start: '2026-11-25T12:00:01Z', expires: '2026-11-25T20:00:01Z' });
    }
    // On a clock far from the apiserver's (a testing clock), the record counts only if it is not ahead of now.
    const later = Date.parse('2026-11-25T15:00:00Z');
    expect(at('2026-11-25T14:59:00Z', later).start).toBe('2026-11-25T14:59:00Z');
    expect(at('2099-01-01T00:00:00Z', later).start).toBe('2026-11-25T15:00:00Z');
  });

  it('warns before the end (Expiring), applies a renewal and names the limit of one beyond policy', () => {
    const first = decideSession(makeSession('nb').obj(), facts(), config, Date.parse('2026-11-25T04:30:00Z'));
    const pod = readyPod(podOf(first)!, 'kwok-cpu-0', '2026-11-25T04:30:30Z');
    const warned = decideSession(makeSession('nb').status(first.status).obj(), facts({ pod }), config, NOW);
    expect(cond(warned, 'Expiring')).toMatchObject({ status: 'True', reason: 'ExpiresWithin1h' });
    expect(warned.requeueAfterMs).toBe(20 * 60_000);
    const renewed = decideSession(makeSession('nb').spec({ renewals: 1 }).status(warned.status).obj(), facts({ pod }), config, NOW);
    expect(renewed.status.expiresAt).toBe('2026-11-25T14:30:00Z');
    expect(cond(renewed, 'Expiring')).toMatchObject({ status: 'False', reason: 'NotDue' });
    expect(cond(renewed, 'Renewed')).toMatchObject({ status: 'True', reason: 'Renewed' });
    const beyond = decideSession(makeSession('nb').spec({ renewals: 9 }).status(warned.status).obj(), facts({ pod }), config, NOW);
    expect(cond(beyond, 'Renewed')).toMatchObject({ status: 'False', reason: 'RenewalLimit', message: expect.stringContaining('lifecycle.renewals.maxCount') });
    expect(beyond.status.expiresAt).toBe('2026-11-25T18:30:00Z');
  });

  it('reports the image the running pod runs while a new profile image waits for the next start', () => {
    const first = decideSession(makeSession('nb').obj(), facts(), config, NOW);
    const pod = readyPod(podOf(first)!, 'kwok-cpu-0', '2026-11-25T11:59:50Z');
    const before = first.status.image!;
    const changed = { ...config, profiles: config.profiles.map((p) => (p.name === 'jupyter-scipy' ? { ...p, image: 'registry.facility.example/jupyter:next' } : p)) };
    const plan = decideSession(makeSession('nb').status(first.status).obj(), facts({ pod }), changed, NOW + 1000);
    expect(plan.delete).toEqual([]);
    expect(cond(plan, 'RestartPending')).toMatchObject({ status: 'True' });
    expect(plan.status.image).toBe(before);
  });

  it('counts a new run\'s renewals from the value spec.renewals had when it began', () => {
    const start = Date.parse('2026-11-25T04:30:00Z');
    const first = decideSession(makeSession('nb').spec({ renewals: 2 }).obj(), facts(), config, start);
    expect(first.status).toMatchObject({ runStartedAt: '2026-11-25T04:30:00Z', renewalsAtStart: 2, expiresAt: '2026-11-25T12:30:00Z' });
    const pod = readyPod(podOf(first)!, 'kwok-cpu-0', '2026-11-25T04:30:30Z');
    const running = decideSession(makeSession('nb').spec({ renewals: 2 }).status(first.status).obj(), facts({ pod }), config, start + 60_000);
    expect(running.status).toMatchObject({ renewalsAtStart: 2, expiresAt: '2026-11-25T12:30:00Z' });
    const renewed = decideSession(makeSession('nb').spec({ renewals: 3 }).status(running.status).obj(), facts({ pod }), config, start + 120_000);
    expect(renewed.status).toMatchObject({ renewalsAtStart: 2, expiresAt: '2026-11-25T14:30:00Z' });
    expect(cond(renewed, 'Renewed')).toMatchObject({ status: 'True', message: expect.stringMatching(/^1 renewal of 2h applied/) });
  });

  it('refuses a lifetime above the maximum, naming the limit', () => {
    const plan = decideSession(makeSession('nb').spec({ lifetime: '12h' }).obj(), facts(), { ...config, profiles: config.profiles.map((p) => ({ ...p, lifecycle: { maxLifetime: '10h' } })) }, NOW);
    expect(podOf(plan)).toBeUndefined();
    expect(cond(plan, 'Ready')).toMatchObject({ reason: 'LifetimeTooLong', message: expect.stringContaining('profiles[jupyter-scipy].lifecycle.maxLifetime') });
  });

  it('deletes a session stopped longer than the retention period', () => {
    const retaining = { ...config, lifecycle: { ...config.lifecycle, retention: '30d' } };
    const stopped = decideSession(makeSession('nb').stopped().obj(), facts(), retaining, NOW);
    expect(stopped.retire).toBeUndefined();
    expect(stopped.requeueAfterMs).toBe(30 * 24 * 3600_000);
    const later = decideSession(makeSession('nb').stopped().status(stopped.status).obj(), facts(), retaining, NOW + 30 * 24 * 3600_000);
    expect(later.retire).toMatch(/stopped since 2026-11-25T12:00:00Z, past the retention period/);
  });

  it('replaces the pod when the session changes', () => {
    const first = decideSession(makeSession('nb').obj(), facts(), config, NOW);
    const pod = readyPod(podOf(first)!, 'kwok-cpu-0', '2026-11-25T11:00:00Z');
    const plan = decideSession(makeSession('nb').spec({ resources: { cpu: 4 } }).obj(), facts({ pod }), config, NOW);
    expect(plan.delete.map((r) => r.kind)).toEqual(['Pod']);
    expect(plan.status.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('Restarting');
  });

  it('is deterministic: the same inputs give the same plan', () => {
    const s = makeSession('nb').gpu('a100', 1).obj();
    expect(decideSession(s, facts(), config, NOW)).toEqual(decideSession(s, facts(), config, NOW));
  });
});

describe('decideSession properties', () => {
  const minId = config.directory.minId;
  const flavourByName = new Map(config.gpuFlavours.map((f) => [f.name, f]));

  /** A request the configuration accepts: a profile with its type, a protocol, flavour, count, CPU and memory it offers. */
  const arbValidRequest = fc.constantFrom(...config.profiles).chain((profile) => {
    const flavours = profile.gpuFlavours ?? [];
    const maxCpu = parseQuantity(profile.limits.cpu);
    const maxGi = Math.floor(parseQuantity(profile.limits.memory) / 2 ** 30);
    return fc.record({
      type: fc.constant(profile.type as string),
      profile: fc.constant(profile.name),
      protocol: profile.type === 'desktop' ? fc.constantFrom(...(profile.protocols ?? ['vnc', 'guacamole'])) : fc.constant(undefined),
      gpu: flavours.length === 0
        ? fc.constant(undefined)
        : fc.option(fc.constantFrom(...flavours).chain((flavour) => fc.record({ flavour: fc.constant(flavour), count: fc.integer({ min: 1, max: flavourByName.get(flavour)!.maxCount }) })), { nil: undefined }),
      cpu: fc.option(fc.oneof(fc.integer({ min: 1, max: maxCpu }), fc.constantFrom('500m', '1')), { nil: undefined }),
      memory: fc.option(fc.integer({ min: 1, max: maxGi }).map((n) => `${n}Gi`), { nil: undefined }),
      knownValid: fc.constant(true),
    });
  });
  /** Anything the schema lets through, most of which the configuration refuses. */
  const arbWildRequest = fc.record({
    type: fc.constantFrom('jupyter', 'desktop'),
    profile: fc.constantFrom('jupyter-scipy', 'desktop-xfce', 'other'),
    protocol: fc.constantFrom('vnc', 'guacamole', undefined),
    gpu: fc.option(fc.record({ flavour: fc.constantFrom('a100', 'a100-1g', 'h100', 'nvidia.com/gpu'), count: fc.integer({ min: 1, max: 16 }) }), { nil: undefined }),
    cpu: fc.option(fc.oneof(fc.integer({ min: 1, max: 64 }), fc.constantFrom('500m', '2', '100')), { nil: undefined }),
    memory: fc.constant(undefined),
    knownValid: fc.constant(false),
  });
  /** Mostly ids the directory policy accepts, sometimes root or a system id. */
  const arbId = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: minId, max: 70000 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: minId - 1 }) });
  const arbSession = fc.record({
    request: fc.oneof({ weight: 3, arbitrary: arbValidRequest }, { weight: 1, arbitrary: arbWildRequest }),
    uid: arbId,
    gid: arbId,
    state: fc.constantFrom('Running', 'Running', 'Running', 'Stopped', undefined),
  });
  const catalogued = new Set(config.gpuFlavours.map((f) => f.resource));

  it('every produced pod runs as a non-root uid from the directory, with no host access and only catalogued GPUs', () => {
    const numRuns = 500;
    const seen = { runs: 0, pods: 0, gpuPods: 0, desktopPods: 0 };
    fc.assert(
      fc.property(arbSession, ({ request: r, uid, gid, state }) => {
        seen.runs++;
        const resources = { ...(r.gpu ? { gpu: r.gpu } : {}), ...(r.cpu ? { cpu: r.cpu } : {}), ...(r.memory ? { memory: r.memory } : {}) };
        const s = makeSession('p').spec({ type: r.type as never, profile: r.profile, state: state as never, ...(r.type === 'desktop' && r.protocol ? { desktop: { protocol: r.protocol as never } } : {}), resources }).obj();
        const plan = decideSession(s, facts({ identity: { kind: 'found', identity: { user: 'alice', uid, gid, groups: [] } } }), config, NOW);
        const pod = podOf(plan);
        const idsAllowed = uid >= minId && gid >= minId;
        const what = JSON.stringify({ r, uid, gid, state });
        if (r.knownValid && idsAllowed && state !== 'Stopped') expect(pod, `a valid running request gets a pod: ${what}`).toBeDefined();
        if (!idsAllowed || state === 'Stopped') expect(pod, `no pod for a low id or a stopped session: ${what}`).toBeUndefined();
        if (!pod) return;
        seen.pods++;
        const sc = pod.spec!.securityContext!;
        expect(sc.runAsNonRoot).toBe(true);
        expect(sc.runAsUser).toBe(uid);
        expect(sc.runAsGroup).toBe(gid);
        expect(uid).toBeGreaterThanOrEqual(minId);
        expect(gid).toBeGreaterThanOrEqual(minId);
        expect(sc.fsGroup).toBeUndefined();
        expect(pod.spec!.hostNetwork ?? false).toBe(false);
        expect(pod.spec!.hostPID ?? false).toBe(false);
        expect(pod.spec!.volumes!.every((v) => !('hostPath' in v) || v.hostPath === undefined)).toBe(true);
        let gpus = 0;
        for (const c of [...pod.spec!.containers, ...(pod.spec!.initContainers ?? [])]) {
          expect(c.securityContext?.privileged).toBe(false);
          expect(c.securityContext?.allowPrivilegeEscalation).toBe(false);
          expect(c.securityContext?.capabilities?.add).toBeUndefined();
          for (const res of Object.keys(c.resources?.limits ?? {})) {
            if (!res.includes('/')) continue;
            expect(catalogued.has(res)).toBe(true);
            gpus++;
          }
          expect((c.env ?? []).some((e) => e.name.startsWith('NVIDIA_'))).toBe(false);
        }
        expect(gpus > 0).toBe(r.gpu !== undefined);
        if (gpus > 0) seen.gpuPods++;
        if (r.type === 'desktop') seen.desktopPods++;
      }),
      { numRuns },
    );
    // The property speaks of pods: most runs must build one, with and without GPUs, of both types.
    expect(seen.runs).toBe(numRuns);
    expect(seen.pods, JSON.stringify(seen)).toBeGreaterThan(numRuns * 0.3);
    expect(seen.gpuPods, JSON.stringify(seen)).toBeGreaterThan(numRuns * 0.05);
    expect(seen.desktopPods, JSON.stringify(seen)).toBeGreaterThan(numRuns * 0.05);
  });

  it('never throws, whatever the stored object contains', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (spec, status) => {
        const s = { apiVersion: 'panalysis.io/v1alpha1', kind: 'AnalysisSession', metadata: { name: 'x', namespace: 'n', uid: 'u' }, spec, status } as unknown as AnalysisSession;
        try {
          decideSession(s, facts(), config, NOW);
        } catch (err) {
          throw new Error(`threw on spec ${JSON.stringify(spec)}: ${(err as Error).message}`, { cause: err });
        }
      }),
      { numRuns: 300 },
    );
  });
});

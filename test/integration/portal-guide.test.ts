// SPDX-License-Identifier: Apache-2.0
/**
 * The portal guide, run as written: every sh block of its runnable section runs in order, as the `portal` identity
 * with only the panalysis-portal role, against a fresh proposal namespace with the operator running. After each step
 * the test checks what a portal would see. The guide's TypeScript client runs through the same life cycle.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { parse } from 'yaml';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { REPO_ROOT } from '../../src/cluster/binaries.ts';
import { sessionsClient, viewOf } from '../../docs/examples/portal-client.ts';
import { core, custom, freshNamespace, kubeConfig, waitFor } from './helpers.ts';
import { startOperator } from './operator.ts';
import type { OperatorProcess } from './operator.ts';
import { guideSteps } from './guide-blocks.ts';
import type { GuideStep } from './guide-blocks.ts';

const GUIDE = readFileSync(join(REPO_ROOT, 'docs', 'portal-guide.md'), 'utf8');
const CLIENT = readFileSync(join(REPO_ROOT, 'docs', 'examples', 'portal-client.ts'), 'utf8');
const GUIDE_NAMESPACE = 'proposal-20231234';
const G = { group: 'panalysis.io', version: 'v1alpha1', plural: 'analysissessions' };

let ns: string;
let operator: OperatorProcess;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  ns = await freshNamespace('proposal-guide', { 'panalysis.io/proposal': '20231234', 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' });
  await kubeConfig().makeApiClient(RbacAuthorizationV1Api).createNamespacedRoleBinding({ namespace: ns, body: { metadata: { name: 'portal' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'panalysis-portal' }, subjects: [{ kind: 'User', name: 'portal', apiGroup: 'rbac.authorization.k8s.io' }] } });
  const kubeconfig = inject('userKubeconfigs')['portal']!;
  const kc = parse(readFileSync(kubeconfig, 'utf8')) as { clusters: Array<{ cluster: { server: string; 'certificate-authority-data': string } }>; users: Array<{ user: { token: string } }> };
  const ca = join(inject('clusterDir'), `portal-guide-ca-${process.pid}.crt`);
  writeFileSync(ca, Buffer.from(kc.clusters[0]!.cluster['certificate-authority-data'], 'base64'));
  env = { ...process.env, KUBECONFIG: kubeconfig, PATH: `${dirname(inject('kubectl'))}:${process.env.PATH}`, APISERVER: kc.clusters[0]!.cluster.server, TOKEN: kc.users[0]!.user.token, CACERT: ca };
  operator = await startOperator();
});
afterEach(async (ctx) => {
  if (ctx.task.result?.state !== 'fail') return;
  const list = (await custom().listNamespacedCustomObject({ ...G, namespace: ns }).catch((e: unknown) => ({ items: String(e) }))) as { items: unknown };
  const events = await core().listNamespacedEvent({ namespace: ns }).then((l) => l.items.map((e) => `${e.type} ${e.reason} ${e.involvedObject.kind}/${e.involvedObject.name}: ${e.message}`), String);
  console.error(`[portal-guide] after the failure:\nsessions: ${JSON.stringify(list.items, null, 1)}\nevents: ${JSON.stringify(events, null, 1)}\noperator log (tail): ${operator.logs.join('').split('\n').slice(-40).join('\n')}`);
});
afterAll(async () => {
  // While the operator runs, so that it can release the finalizers of sessions a failed step left behind.
  if (ns) {
    await core().deleteNamespace({ name: ns });
    await untilGone(`namespace ${ns}`, () => core().readNamespace({ name: ns }));
  }
  await operator?.stop();
}, 180_000);

/** Runs one block with bash (-euo pipefail) as the portal (unless `extraEnv` says otherwise); resolves its stdout. */
function runBlock(code: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', code], { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (status) => (status === 0 ? resolve(out) : reject(new Error(`exit ${status}: ${err}\n--- block ---\n${code}`))));
  });
}

/** Runs a block that streams until interrupted; resolves its output once `until` matches, then ends it. */
async function runStreamingBlock(code: string, until: RegExp): Promise<string> {
  const child = spawn('bash', ['-euo', 'pipefail', '-c', code], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  try {
    await waitFor(`output matching ${until}`, async () => until.test(out) || child.exitCode !== null, 120_000);
    if (!until.test(out)) throw new Error(`the block ended (exit ${child.exitCode}) before printing ${until}:\n${out}${err}`);
    return out;
  } finally {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
  }
}

const session = async (name: string) => (await custom('portal').getNamespacedCustomObject({ ...G, namespace: ns, name })) as { spec: Record<string, unknown>; status?: { phase?: string; url?: string; conditions?: Array<{ type: string; status: string }> } };
const phaseOf = async (name: string) => (await session(name)).status?.phase;
async function untilPhase(name: string, phase: string): Promise<void> {
  await waitFor(`session ${name} ${phase}`, async () => (await phaseOf(name)) === phase, 120_000);
}
/** Waits until `read` answers 404; any other error fails at once. */
async function untilGone(what: string, read: () => Promise<unknown>): Promise<void> {
  let failure: unknown;
  await waitFor(`${what} to be deleted (404)`, async () => {
    try {
      await read();
      return false;
    } catch (err) {
      if ((err as { code?: number }).code !== 404) failure = err;
      return true;
    }
  }, 120_000);
  if (failure) throw failure;
}
const pod = (name: string) => core().readNamespacedPod({ name, namespace: ns });
const home = (name: string) => core().readNamespacedPersistentVolumeClaim({ name: `${name}-home`, namespace: ns });

const seen: { podUid?: string; homeUid?: string } = {};

/** What a portal checks after each step of the guide, by `section / step`; streaming steps name what ends them. */
const CHECKS: Record<string, { until?: RegExp; check: (out: string) => Promise<void> }> = {
  'Sessions with kubectl / Create a session': {
    check: async (out) => {
      expect(out.trim().split('\n')).toEqual(['analysissession.panalysis.io/alice-notebook created', 'analysissession.panalysis.io/alice-notebook condition met', `http://alice-notebook--${ns}.sessions.localhost:8080/s/${ns}/alice-notebook/`]);
      const s = await session('alice-notebook');
      expect(s.status?.phase).toBe('Running');
      expect(s.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      // The guide's Events command (outside the portal's section: it needs the view role) shows the Ready Event.
      const events = GUIDE.slice(GUIDE.indexOf('## Events')).match(/```sh\n([\s\S]*?)\n```/)![1]!.replaceAll(GUIDE_NAMESPACE, ns);
      await waitFor('the SessionReady Event', async () => (await runBlock(events, { KUBECONFIG: inject('kubeconfig') })).includes('SessionReady'), 60_000);
      seen.podUid = (await pod('alice-notebook')).metadata?.uid;
      seen.homeUid = (await home('alice-notebook')).metadata?.uid;
    },
  },
  'Sessions with kubectl / List sessions': {
    check: async (out) => {
      expect(out).toMatch(/^NAME\s+USER\s+TYPE\s+GPU\s+PHASE\s+URL\s+AGE$/m);
      expect(out).toMatch(/^alice-notebook\s+alice\s+jupyter\s.*Running\s+http:\/\/alice-notebook--proposal-guide-[0-9-]+\.sessions\.localhost:8080\/s\//m);
      expect(out).toMatch(/^NAME\s+USER\s+TYPE\s+PROFILE\s+GPU\s+PHASE\s+URL\s+MESSAGE\s+AGE$/m);
      expect(out).toMatch(/jupyter-scipy.*The session is ready\./);
      expect(out).toMatch(/^alice-notebook\tRunning$/m);
    },
  },
  'Sessions with kubectl / Watch a session': {
    until: /alice-notebook\s+alice\s+jupyter\s.*Running/,
    check: async () => undefined,
  },
  'Sessions with kubectl / Show why a session waits': {
    check: async (out) => {
      expect(out).toContain('Running: The session is ready.\n');
      expect(out).toContain('Ready\tTrue\tReady\tThe session is ready.\n');
      expect(out).toMatch(/^IdentityResolved\tTrue\tResolved\tRuns as uid 20001, gid 20001\.$/m);
      expect(out).toContain('spec.lifetime: 100h exceeds the maximum of 3d; ask for at most 3d\n');
      await untilGone('session alice-long', () => session('alice-long'));
    },
  },
  'Sessions with kubectl / Share a session': {
    check: async (out) => {
      const [patched, shared] = out.trim().split('\n');
      expect(patched).toBe('analysissession.panalysis.io/alice-notebook patched');
      expect(JSON.parse(shared!)).toEqual({ users: ['bob'], groups: ['p20231234'] });
      expect(await phaseOf('alice-notebook')).toBe('Running');
      expect((await pod('alice-notebook')).metadata?.uid).toBe(seen.podUid);
    },
  },
  'Sessions with kubectl / Stop a session': {
    check: async () => {
      expect(await phaseOf('alice-notebook')).toBe('Stopped');
      await untilGone('the pod of alice-notebook', () => pod('alice-notebook'));
      expect((await home('alice-notebook')).metadata?.uid).toBe(seen.homeUid);
    },
  },
  'Sessions with kubectl / Resume a session': {
    check: async () => {
      expect(await phaseOf('alice-notebook')).toBe('Running');
      expect((await pod('alice-notebook')).metadata?.uid).not.toBe(seen.podUid);
      expect((await home('alice-notebook')).metadata?.uid).toBe(seen.homeUid);
    },
  },
  'Sessions with kubectl / Delete a session': {
    check: async (out) => {
      expect(out.trim()).toMatch(/^analysissession\.panalysis\.io "alice-notebook" deleted( from \S+ namespace)?$/);
      await untilGone('session alice-notebook', () => session('alice-notebook'));
      await untilGone('the pod of alice-notebook', () => pod('alice-notebook'));
      await untilGone('the home of alice-notebook', () => home('alice-notebook'));
      await untilGone('the credentials of alice-notebook', () => core().readNamespacedSecret({ name: 'alice-notebook-credentials', namespace: ns }));
    },
  },
  'Sessions with curl / Create a session with curl': {
    check: async (out) => {
      expect(JSON.parse(out)).toMatchObject({ kind: 'AnalysisSession', metadata: { name: 'alice-desktop', namespace: ns } });
      await untilPhase('alice-desktop', 'Running');
    },
  },
  'Sessions with curl / Read and list sessions with curl': {
    check: async (out) => {
      expect(out).toMatch(/"kind":\s*"AnalysisSession"/);
      expect(out).toMatch(/"kind":\s*"AnalysisSessionList"/);
      expect(out).toMatch(/"phase":\s*"Running"/);
    },
  },
  'Sessions with curl / Watch a session with curl': {
    until: /"type":\s*"ADDED"[\s\S]*"name":\s*"alice-desktop"[\s\S]*"phase":\s*"Running"/,
    check: async () => undefined,
  },
  'Sessions with curl / Stop a session with curl': {
    check: async (out) => {
      expect(JSON.parse(out)).toMatchObject({ spec: { state: 'Stopped' } });
      await untilPhase('alice-desktop', 'Stopped');
      await untilGone('the pod of alice-desktop', () => pod('alice-desktop'));
    },
  },
  'Sessions with curl / Resume and share a session with curl': {
    check: async () => {
      await untilPhase('alice-desktop', 'Running');
      expect((await session('alice-desktop')).spec.sharedWith).toEqual({ users: ['bob'] });
    },
  },
  'Sessions with curl / Delete a session with curl': {
    check: async (out) => {
      expect(out).toMatch(/"name":\s*"alice-desktop"/);
      await untilGone('session alice-desktop', () => session('alice-desktop'));
    },
  },
};

const steps: GuideStep[] = guideSteps(GUIDE, 'portal-guide:runnable');
const key = (s: GuideStep) => `${s.section} / ${s.step}`;

describe('portal guide', () => {
  it('has a check for every runnable step, and every check has its step', () => {
    expect(steps.map(key).sort()).toEqual(Object.keys(CHECKS).sort());
  });

  for (const step of steps) {
    it(`${key(step)}: runs as written and shows what the guide says`, async () => {
      const expectation = CHECKS[key(step)];
      if (!expectation) throw new Error(`no check for the guide's step "${key(step)}"; add one to CHECKS`);
      let out = '';
      for (const [i, block] of step.blocks.entries()) {
        const code = block.replaceAll(GUIDE_NAMESPACE, ns);
        const last = i === step.blocks.length - 1;
        out += expectation.until && last ? await runStreamingBlock(code, expectation.until) : await runBlock(code);
      }
      await expectation.check(out);
    });
  }

  it('shows the TypeScript client exactly as docs/examples/portal-client.ts has it', () => {
    expect(GUIDE).toContain('<!-- portal-guide:client begin -->\n```ts\n' + CLIENT + '```\n<!-- portal-guide:client end -->');
  });

  it('runs the TypeScript client through a session life cycle as the portal', async () => {
    const sessions = sessionsClient(kubeConfig('portal'), ns);
    await sessions.create('ts-notebook', { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy' });
    const running = await sessions.untilPhase('ts-notebook', ['Running', 'Failed'], 120_000);
    expect(viewOf(running)).toEqual({ name: 'ts-notebook', phase: 'Running', message: '', reason: 'Ready', url: `http://ts-notebook--${ns}.sessions.localhost:8080/s/${ns}/ts-notebook/` });
    expect((await sessions.list('alice')).map((s) => s.metadata.name)).toContain('ts-notebook');
    expect(await sessions.list('nobody')).toEqual([]);
    expect((await sessions.share('ts-notebook', { users: ['bob'] })).spec.sharedWith).toEqual({ users: ['bob'] });
    await sessions.stop('ts-notebook');
    expect(viewOf(await sessions.untilPhase('ts-notebook', ['Stopped'], 120_000))).toMatchObject({ phase: 'Stopped', reason: 'Stopped', url: undefined });
    await sessions.resume('ts-notebook');
    expect((await sessions.untilPhase('ts-notebook', ['Running'], 120_000)).spec.state).toBe('Running');
    await sessions.delete('ts-notebook');
    await waitFor('ts-notebook to be gone', async () => (await sessions.get('ts-notebook')) === undefined, 120_000);
  });

  it('shows a refused request through the TypeScript client with its reason and message', async () => {
    const sessions = sessionsClient(kubeConfig('portal'), ns);
    await sessions.create('ts-greedy', { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy', resources: { cpu: 64 } });
    const view = viewOf(await sessions.untilPhase('ts-greedy', ['Running', 'Failed'], 120_000));
    expect(view).toEqual({ name: 'ts-greedy', phase: 'Failed', reason: 'ResourcesTooHigh', message: 'spec.resources.cpu: 64 exceeds the limit 16 of profile jupyter-scipy; ask for at most 16', url: undefined });
    await sessions.delete('ts-greedy');
    await waitFor('ts-greedy to be gone', async () => (await sessions.get('ts-greedy')) === undefined, 120_000);
  });
});

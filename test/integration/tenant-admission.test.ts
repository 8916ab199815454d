// SPDX-License-Identifier: Apache-2.0
/**
 * Tenant isolation at admission, on the real apiserver with RBAC and impersonated test users:
 * deleting sessions (every cascade mode finishes; orphaning is refused; only the user, a portal
 * or a proposal admin may delete), metadata updates by admins and GitOps tools, and proposal
 * namespaces where only the operator writes pods, claims, Services, NetworkPolicies and Secrets
 * while the control plane (garbage collector, volume binder, namespace deletion) keeps working.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { AppsV1Api, CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import type { AnalysisSession } from '../../src/api/v1alpha1/analysis-session.ts';
import { findBinaries, REPO_ROOT } from '../../src/cluster/binaries.ts';
import { attack } from './attacks.ts';
import { deleteFreshNamespaces } from './cleanup.ts';
import { createDataset, waitDataset, readyIs } from './datasets.ts';
import { apiErrorMessage, core, custom, kubeConfig, waitFor } from './helpers.ts';
import { startOperator } from './operator.ts';
import type { OperatorProcess } from './operator.ts';
import { createSession, isPhase, waitSession } from './sessions.ts';
import { childReaders, isGone, kubectlAs, kubectlCreate, namespacePolicy, proposalNamespace, snapshotChildren, waitChildrenGone } from './tenants.ts';

const execFileAsync = promisify(execFile);
const SESSIONS = 'analysissessions.panalysis.io';
const G = { group: 'panalysis.io', version: 'v1alpha1', plural: 'analysissessions' };
const TIMEOUT = 180_000;
let operator: OperatorProcess;

beforeAll(async () => {
  operator = await startOperator({ resyncSeconds: 5 });
});
// Namespaces go while the operator still runs: it removes the sessions' and DatasetMounts' finalizers.
afterAll(async () => {
  await deleteFreshNamespaces();
  await operator?.stop();
});

const readSession = (ns: string, name: string) => custom().getNamespacedCustomObject({ ...G, namespace: ns, name }) as Promise<AnalysisSession>;

/** Creates alice's session `name` (as alice) and returns its children once it runs. */
async function alicesRunningSession(ns: string, name: string): Promise<Record<string, unknown>> {
  await createSession(ns, name, { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy' }, 'alice');
  await waitSession(ns, name, 'Running', isPhase('Running'));
  return snapshotChildren(ns, name);
}

/** Asserts that session `name` still runs, is not being deleted, and its children are as before. */
async function expectUntouched(ns: string, name: string, before: Record<string, unknown>): Promise<void> {
  const s = await readSession(ns, name);
  expect(s.metadata?.deletionTimestamp).toBeUndefined();
  expect(s.spec.user).toBe('alice');
  expect(s.status?.phase).toBe('Running');
  expect(await snapshotChildren(ns, name)).toEqual(before);
}

/** Deletes session `name` with kubectl as `user`; kubectl waits until it is gone (or fails). */
async function kubectlDelete(user: string, ns: string, name: string, ...flags: string[]) {
  const started = Date.now();
  const result = await kubectlAs(user, ['delete', SESSIONS, name, '-n', ns, '--timeout=90s', ...flags]);
  return { ...result, seconds: ((Date.now() - started) / 1000).toFixed(1) };
}

const POLICY_DELETE = /ValidatingAdmissionPolicy 'panalysis-session-delete'/;
const POLICY_NAMESPACE = /ValidatingAdmissionPolicy 'panalysis-proposal-namespace'/;

describe('deleting sessions', () => {
  for (const [id, cascade] of [['A1', 'foreground'], ['A3', 'background']] as const) {
    const flags = cascade === 'background' ? [] : [`--cascade=${cascade}`];
    attack(id, `kubectl delete asession ${flags.join(' ') || '(default cascade)'} by the session's user`,
      'finishes; the session and its pod, Secret and home claim are gone (404); the namespace\'s NetworkPolicy stays',
      async () => {
        const ns = await proposalNamespace(`del-${cascade}`, { alice: ['panalysis-portal'] });
        await alicesRunningSession(ns, 'nb');
        const r = await kubectlDelete('alice', ns, 'nb', ...flags);
        expect(r.stderr).toBe('');
        expect(r.ok).toBe(true);
        expect(await isGone(() => readSession(ns, 'nb'))).toBe(true);
        await waitChildrenGone(ns, 'nb');
        expect(await isGone(() => namespacePolicy(ns))).toBe(false);
        return `kubectl returned after ${r.seconds} s; session, pod, Secret and home claim answer 404; NetworkPolicy panalysis-sessions is in place`;
      }, TIMEOUT);
  }

  attack('A2', 'kubectl delete asession --cascade=orphan, by the user and by a cluster admin; adding the orphan finalizer by hand',
    'refused with a message naming the orphaning; the session keeps running with the same children',
    async () => {
      const ns = await proposalNamespace('del-orphan', { alice: ['panalysis-portal'] });
      const before = await alicesRunningSession(ns, 'nb');
      const messages: string[] = [];
      for (const user of ['alice', 'admin']) {
        const r = await kubectlDelete(user, ns, 'nb', '--cascade=orphan');
        expect(r.ok).toBe(false);
        expect(r.stderr).toMatch(POLICY_DELETE);
        expect(r.stderr).toMatch(/analysissessions "nb": orphaning its children is refused \(propagationPolicy Orphan, kubectl delete --cascade=orphan\)/);
        messages.push(r.stderr.trim());
      }
      const finalizers = (await readSession(ns, 'nb')).metadata?.finalizers ?? [];
      const patch = await kubectlAs('admin', ['patch', SESSIONS, 'nb', '-n', ns, '--type', 'merge', '-p', JSON.stringify({ metadata: { finalizers: [...finalizers, 'orphan'] } })]);
      expect(patch.ok).toBe(false);
      expect(patch.stderr).toMatch(/orphaning its children is refused \(metadata\.finalizers: orphan\)/);
      await expectUntouched(ns, 'nb', before);
      return `all three refused ("${/orphaning[^:]*/.exec(messages[0]!)![0]}"); session still Running, children unchanged`;
    }, TIMEOUT);

  attack('A4', "bob (a proposal member with panalysis-portal and edit) deletes alice's session",
    "refused: only its user, a portal or a proposal admin may; alice's session and children unchanged",
    async () => {
      const ns = await proposalNamespace('del-other', { alice: ['panalysis-portal'], bob: ['panalysis-portal', 'edit'] });
      const before = await alicesRunningSession(ns, 'nb');
      const r = await kubectlDelete('bob', ns, 'nb');
      expect(r.ok).toBe(false);
      expect(r.stderr).toMatch(POLICY_DELETE);
      expect(r.stderr).toMatch(/bob may not delete session "nb" of alice: only its user, a trusted portal \(groups panalysis:portals\) or an admin of the proposal \(panalysis-admin\) may/);
      await expectUntouched(ns, 'nb', before);
      return 'refused ("bob may not delete session "nb" of alice"); session Running, children unchanged';
    }, TIMEOUT);

  attack('A5', "a facility admin (panalysis-admin, not a portal) stops and deletes a scientist's session",
    'both allowed: the pod goes on stop (home kept), then the session and its children are gone (404)',
    async () => {
      const ns = await proposalNamespace('del-admin', { alice: ['panalysis-portal'], 'facility-admin': ['panalysis-admin'] });
      const before = await alicesRunningSession(ns, 'nb');
      const stop = await kubectlAs('facility-admin', ['patch', SESSIONS, 'nb', '-n', ns, '--type', 'merge', '-p', '{"spec":{"state":"Stopped"}}']);
      expect(stop.stderr).toBe('');
      await waitSession(ns, 'nb', 'Stopped', isPhase('Stopped'));
      await waitFor('the stopped session\'s pod to be deleted', () => isGone(childReaders(ns, 'nb').pod!), 60_000);
      const home = await core().readNamespacedPersistentVolumeClaim({ namespace: ns, name: 'nb-home' });
      expect(home.metadata?.uid).toBe((before.homeClaim as { uid: string }).uid);
      const r = await kubectlDelete('facility-admin', ns, 'nb');
      expect(r.stderr).toBe('');
      expect(await isGone(() => readSession(ns, 'nb'))).toBe(true);
      await waitChildrenGone(ns, 'nb');
      return `stop: phase Stopped, pod 404, home kept; delete returned after ${r.seconds} s, session and children 404`;
    }, TIMEOUT);

  attack('A6', 'a GitOps controller (not a portal, with panalysis-portal rights like any member) relabels a session, adds a finalizer to hold its deletion, and tries to change spec.user',
    'the label change is allowed and the session keeps running; the finalizer and the spec.user change are refused naming the rule; the session\'s own user may add and remove a finalizer',
    async () => {
      const ns = await proposalNamespace('gitops', { alice: ['panalysis-portal'], gitops: ['panalysis-portal'] });
      const before = await alicesRunningSession(ns, 'nb');
      const label = await kubectlAs('gitops', ['label', SESSIONS, 'nb', '-n', ns, 'app.kubernetes.io/managed-by=argocd']);
      expect(label.stderr).toBe('');
      const finalizers = (await readSession(ns, 'nb')).metadata?.finalizers ?? [];
      const hold = JSON.stringify({ metadata: { finalizers: [...finalizers, 'gitops.example/hold'] } });
      const add = await kubectlAs('gitops', ['patch', SESSIONS, 'nb', '-n', ns, '--type', 'merge', '-p', hold]);
      expect(add.ok).toBe(false);
      expect(add.stderr).toMatch(/gitops may not change session "nb" of alice: .* may change its spec, owner references or finalizers/);
      const user = await kubectlAs('gitops', ['patch', SESSIONS, 'nb', '-n', ns, '--type', 'merge', '-p', '{"spec":{"user":"gitops"}}']);
      expect(user.ok).toBe(false);
      expect(user.stderr).toMatch(/spec\.user/);
      expect(user.stderr).toMatch(/cannot change/);
      const own = await kubectlAs('alice', ['patch', SESSIONS, 'nb', '-n', ns, '--type', 'merge', '-p', hold]);
      expect(own.stderr).toBe('');
      const back = await kubectlAs('alice', ['patch', SESSIONS, 'nb', '-n', ns, '--type', 'merge', '-p', JSON.stringify({ metadata: { finalizers } })]);
      expect(back.stderr).toBe('');
      const s = await readSession(ns, 'nb');
      expect(s.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('argocd');
      expect(s.metadata?.finalizers ?? []).toEqual(finalizers);
      await expectUntouched(ns, 'nb', before);
      return `label applied; finalizer refused ("${/may change its spec[^\n]*/.exec(add.stderr)![0]}"); spec.user change refused ("${/spec\.user[^;\n]*/.exec(user.stderr)![0]}"); alice added and removed one; session Running, children unchanged`;
    }, TIMEOUT);
});

describe('proposal namespaces are written only by the operator', () => {
  let ns: string;
  let before: Record<string, unknown>;
  let datasetClaim: string;

  beforeAll(async () => {
    ns = await proposalNamespace('guard', { alice: ['panalysis-portal'], bob: ['edit'] });
    await createDataset(ns, 'raw', { source: { nfs: { server: 'nfs01.facility.example', path: '/exp/p11/20231234/raw' } }, access: { readGroups: ['p20231234'] }, mountPath: '/data/raw' });
    const ds = await waitDataset(ns, 'raw', 'Ready', readyIs('True'));
    datasetClaim = ds.status!.claimName!;
    before = await alicesRunningSession(ns, 'nb');
  }, TIMEOUT);

  const writerPod = (name: string, claim: string) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: {
      securityContext: { runAsUser: 20001, runAsGroup: 20001, supplementalGroups: [30001, 30002] },
      containers: [{ name: 'c', image: 'busybox', command: ['sleep', '1d'], volumeMounts: [{ name: 'v', mountPath: '/v' }] }],
      volumes: [{ name: 'v', persistentVolumeClaim: { claimName: claim } }],
    },
  });

  const createAsBob = (obj: unknown) => kubectlCreate('bob', ns, obj);

  attack('A7', "a user with plain edit starts a pod with a writer's uid that mounts the dataset claim, or alice's home claim",
    "both refused by the proposal-namespace policy; the dataset claim and alice's session unchanged",
    async () => {
      const claimBefore = await core().readNamespacedPersistentVolumeClaim({ namespace: ns, name: datasetClaim });
      for (const [name, claim] of [['steal-data', datasetClaim], ['steal-home', 'nb-home']] as const) {
        const r = await createAsBob(writerPod(name, claim));
        expect(r.ok).toBe(false);
        expect(r.stderr).toMatch(POLICY_NAMESPACE);
        expect(r.stderr).toMatch(new RegExp(`pods "${name}": bob may not create in proposal namespace ${ns}: only the panalysis operator creates and changes pods`));
        expect(await isGone(() => core().readNamespacedPod({ namespace: ns, name }))).toBe(true);
      }
      const claimAfter = await core().readNamespacedPersistentVolumeClaim({ namespace: ns, name: datasetClaim });
      expect({ uid: claimAfter.metadata?.uid, volume: claimAfter.spec?.volumeName, phase: claimAfter.status?.phase })
        .toEqual({ uid: claimBefore.metadata?.uid, volume: claimBefore.spec?.volumeName, phase: 'Bound' });
      await expectUntouched(ns, 'nb', before);
      return 'both pods refused (403, policy panalysis-proposal-namespace) and absent (404); dataset claim and session unchanged';
    }, TIMEOUT);

  attack('A8', "a user with plain edit gets pods created by a Deployment that mounts alice's home claim",
    "the ReplicaSet's pod is refused (ReplicaFailure names the policy); no pod but alice's exists",
    async () => {
      const apps = kubeConfig('bob').makeApiClient(AppsV1Api);
      const template = writerPod('x', 'nb-home');
      await apps.createNamespacedDeployment({ namespace: ns, body: {
        metadata: { name: 'sneak' },
        spec: { replicas: 1, selector: { matchLabels: { app: 'sneak' } }, template: { metadata: { labels: { app: 'sneak' } }, spec: template.spec } },
      } });
      let failure = '';
      await waitFor('the ReplicaSet to report the refused pod', async () => {
        const rs = await kubeConfig().makeApiClient(AppsV1Api).listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=sneak' });
        failure = rs.items[0]?.status?.conditions?.find((c) => c.type === 'ReplicaFailure')?.message ?? '';
        return failure !== '';
      }, 60_000);
      expect(failure).toMatch(/system:serviceaccount:kube-system:replicaset-controller may not create in proposal namespace/);
      const pods = await core().listNamespacedPod({ namespace: ns });
      expect(pods.items.map((p) => p.metadata?.name)).toEqual(['nb']);
      await expectUntouched(ns, 'nb', before);
      return 'the ReplicaSet reports ReplicaFailure (replicaset-controller may not create pods in the proposal namespace); only alice\'s pod exists';
    }, TIMEOUT);

  attack('A9', "a user with plain edit creates a Service selecting alice's session pod (a NodePort around the gateway)",
    'refused; no Service nb exists',
    async () => {
      const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'nb' }, spec: { type: 'NodePort', selector: { 'panalysis.io/session': 'nb' }, ports: [{ port: 8888 }] } };
      const r = await kubectlCreate('bob', ns, svc);
      expect(r.ok).toBe(false);
      expect(r.stderr).toMatch(POLICY_NAMESPACE);
      expect(r.stderr).toMatch(/services "nb": bob may not create in proposal namespace/);
      expect(await isGone(() => core().readNamespacedService({ namespace: ns, name: 'nb' }))).toBe(true);
      await expectUntouched(ns, 'nb', before);
      return 'refused (services "nb": bob may not create); no Service nb exists';
    }, TIMEOUT);

  attack('A10', 'a user with plain edit adds a permissive NetworkPolicy, or widens the sessions\'',
    "both refused; the namespace's NetworkPolicies unchanged",
    async () => {
      const allowAll = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'allow-all' }, spec: { podSelector: {}, ingress: [{}], policyTypes: ['Ingress'] } };
      const create = await createAsBob(allowAll);
      expect(create.ok).toBe(false);
      expect(create.stderr).toMatch(/networkpolicies "allow-all": bob may not create in proposal namespace/);
      const widen = await kubectlAs('bob', ['patch', 'networkpolicy', 'panalysis-sessions', '-n', ns, '--type', 'json', '-p', '[{"op":"add","path":"/spec/ingress/-","value":{}}]']);
      expect(widen.ok).toBe(false);
      expect(widen.stderr).toMatch(/networkpolicies "panalysis-sessions": bob may not update in proposal namespace/);
      const list = await kubectlAs('admin', ['get', 'networkpolicies', '-n', ns, '-o', 'name']);
      expect(list.stdout.trim().split('\n')).toEqual(['networkpolicy.networking.k8s.io/panalysis-sessions']);
      await expectUntouched(ns, 'nb', before);
      return 'both refused; only the operator\'s NetworkPolicy of the namespace exists, its rules unchanged';
    }, TIMEOUT);

  attack('A11', "a user with plain edit execs into alice's pod, attaches a debug container, evicts the pod, or deletes her home claim",
    'all refused by the policy (exec is a CONNECT, debug an ephemeral container); pod and claim unchanged',
    async () => {
      const exec = await kubectlAs('bob', ['exec', 'nb', '-n', ns, '-c', 'jupyter', '--', 'cat', '/proc/1/environ']);
      expect(exec.stderr).toMatch(/pods\/exec "nb": bob may not connect in proposal namespace/);
      // Neither edit nor admin grants ephemeral containers: grant them, so that the policy is what refuses.
      const rbac = kubeConfig().makeApiClient(RbacAuthorizationV1Api);
      await rbac.createNamespacedRole({ namespace: ns, body: { metadata: { name: 'debugger' }, rules: [{ apiGroups: [''], resources: ['pods/ephemeralcontainers'], verbs: ['patch', 'update'] }] } });
      await rbac.createNamespacedRoleBinding({ namespace: ns, body: { metadata: { name: 'bob-debugger' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'debugger' }, subjects: [{ kind: 'User', name: 'bob', apiGroup: 'rbac.authorization.k8s.io' }] } });
      await waitFor('bob to be allowed to add ephemeral containers', async () => (await kubectlAs('bob', ['auth', 'can-i', 'patch', 'pods', '--subresource=ephemeralcontainers', '-n', ns])).ok, 30_000);
      const debug = await kubectlAs('bob', ['debug', 'nb', '-n', ns, '--image=busybox', '--target=jupyter', '--profile=general', '--', 'sh']);
      expect(debug.stderr).toMatch(/pods\/ephemeralcontainers "nb": bob may not update in proposal namespace/);
      const evict = await kubeConfig('bob').makeApiClient(CoreV1Api).createNamespacedPodEviction({ namespace: ns, name: 'nb', body: { metadata: { namespace: ns, name: 'nb' } } }).then(() => '', apiErrorMessage);
      expect(evict).toMatch(/pods\/eviction "nb": bob may not create in proposal namespace/);
      const del = await kubectlAs('bob', ['delete', 'pvc', 'nb-home', '-n', ns, '--wait=false']);
      expect(del.stderr).toMatch(/persistentvolumeclaims "nb-home": bob may not delete in proposal namespace/);
      await expectUntouched(ns, 'nb', before);
      const pod = await core().readNamespacedPod({ namespace: ns, name: 'nb' });
      expect(pod.spec?.ephemeralContainers).toBeUndefined();
      return 'exec (CONNECT), debug (ephemeral container, RBAC granted), eviction and claim delete refused by panalysis-proposal-namespace; pod and claim unchanged';
    }, TIMEOUT);

  attack('A12', 'a user with plain edit plants a home claim and a Secret with a known token for a session about to be created',
    'both refused; neither object exists',
    async () => {
      const claim = await createAsBob({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'next-home' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
      const secret = await createAsBob({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'next-credentials' }, stringData: { token: 'known' } });
      expect(claim.stderr).toMatch(/persistentvolumeclaims "next-home": bob may not create/);
      expect(secret.stderr).toMatch(/secrets "next-credentials": bob may not create/);
      expect(await isGone(() => core().readNamespacedPersistentVolumeClaim({ namespace: ns, name: 'next-home' }))).toBe(true);
      expect(await isGone(() => core().readNamespacedSecret({ namespace: ns, name: 'next-credentials' }))).toBe(true);
      return 'both refused; next-home and next-credentials answer 404';
    }, TIMEOUT);

  attack('A14', "a ServiceAccount named like the operator's, in another namespace, writes in a proposal namespace",
    "refused: only the chart's own operator ServiceAccount (panalysis-system/panalysis-operator) is exempt, by its full identity",
    async () => {
      const rbac = kubeConfig().makeApiClient(RbacAuthorizationV1Api);
      const impostor = 'system:serviceaccount:attacker:panalysis-operator';
      const chartOperator = 'system:serviceaccount:panalysis-system:panalysis-operator';
      for (const [i, user] of [impostor, chartOperator].entries()) {
        await rbac.createNamespacedRoleBinding({ namespace: ns, body: { metadata: { name: `sa-edit-${i}` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' }, subjects: [{ kind: 'User', name: user, apiGroup: 'rbac.authorization.k8s.io' }] } });
      }
      const create = (user: string, name: string) => kubectlAs('admin', ['create', 'secret', 'generic', name, '-n', ns, '--from-literal=token=known', `--as=${user}`, '--as-group=system:serviceaccounts', '--as-group=system:authenticated']);
      const refused = await create(impostor, 'impostor');
      expect(refused.ok).toBe(false);
      expect(refused.stderr).toMatch(new RegExp(`secrets "impostor": ${impostor} may not create in proposal namespace`));
      const allowed = await create(chartOperator, 'by-operator');
      expect(allowed.stderr).toBe('');
      expect(await isGone(() => core().readNamespacedSecret({ namespace: ns, name: 'impostor' }))).toBe(true);
      await core().deleteNamespacedSecret({ namespace: ns, name: 'by-operator' });
      await expectUntouched(ns, 'nb', before);
      return "the impostor's Secret refused (404); the chart operator's identity may write";
    }, TIMEOUT);

  attack('A13', 'the control plane under the policy: the operator starts sessions, claims bind, deletion cascades, the namespace is deleted',
    'a session runs with its home and dataset claims Bound; deleting it removes its children; deleting the namespace finishes',
    async () => {
      await createSession(ns, 'two', { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy', datasets: [{ name: 'raw' }] }, 'alice');
      await waitSession(ns, 'two', 'Running', isPhase('Running'));
      const claims = await core().listNamespacedPersistentVolumeClaim({ namespace: ns });
      expect(claims.items.filter((c) => ['two-home', datasetClaim].includes(c.metadata!.name!)).map((c) => c.status?.phase)).toEqual(['Bound', 'Bound']);
      const r = await kubectlDelete('alice', ns, 'two');
      expect(r.stderr).toBe('');
      await waitChildrenGone(ns, 'two');
      await core().deleteNamespace({ name: ns });
      await waitFor(`namespace ${ns} to be deleted`, () => isGone(() => core().readNamespace({ name: ns })), 120_000);
      return 'session Running with home and dataset claims Bound; its children 404 after delete; namespace (with a running session, a DatasetMount and a Deployment) deleted (404)';
    }, TIMEOUT);
});

describe('the admission policies as installed and rendered', () => {
  it('type-check on the apiserver without warnings', async () => {
    type Policy = { metadata: { name: string }; status?: { typeChecking?: { expressionWarnings?: unknown[] } } };
    let ours: Policy[] = [];
    await waitFor('the apiserver to type-check our policies', async () => {
      const out = await kubectlAs('admin', ['get', 'validatingadmissionpolicies', '-o', 'json']);
      ours = (JSON.parse(out.stdout) as { items: Policy[] }).items.filter((p) => p.metadata.name.startsWith('panalysis-'));
      return ours.length > 0 && ours.every((p) => p.status?.typeChecking !== undefined);
    }, 30_000);
    expect(ours.map((p) => p.metadata.name).sort()).toEqual(['panalysis-proposal-namespace', 'panalysis-session-delete', 'panalysis-session-user']);
    for (const p of ours) expect(p.status?.typeChecking?.expressionWarnings ?? [], p.metadata.name).toEqual([]);
  });

  it("exempt the chart's own operator ServiceAccount under any release, and cluster admin groups from the values", async () => {
    const render = (...set: string[]) => execFileAsync(findBinaries().helm, ['template', 'rel', join(REPO_ROOT, 'charts', 'panalysis'), '-n', 'science', '--kube-version', findBinaries().k8sVersion, ...set.flatMap((s) => ['--set', s])]).then((r) => r.stdout);
    const guard = (yaml: string) => parseAllDocuments(yaml).map((d) => d.toJS() as { kind?: string; metadata?: { name?: string }; spec?: { matchConditions?: Array<{ expression: string }> } })
      .find((o) => o?.kind === 'ValidatingAdmissionPolicy' && o.metadata?.name === 'panalysis-proposal-namespace');
    const exempt = guard(await render('admission.proposalNamespaces.writerGroups={cluster-admins}'))?.spec?.matchConditions?.[0]?.expression;
    expect(exempt).toContain('request.userInfo.username in ["system:serviceaccount:science:rel-panalysis-operator"]');
    expect(exempt).toContain('["system:masters","cluster-admins"]');
    expect(guard(await render('admission.proposalNamespaces.guard=false'))).toBeUndefined();
  });
});

// SPDX-License-Identifier: Apache-2.0
/**
 * Tenant isolation, reviewed as the scientist next door would attack it: changing another
 * member's session (its spec, or its owner references so that the garbage collector deletes it),
 * creating DatasetMounts or relabelling the namespace, reading another's credentials, resizing
 * another's pod, steering a session's traffic with an EndpointSlice, naming a DatasetMount of
 * another namespace, sharing a session with a non-member, and restarting a session that is being
 * deleted. Each attack asserts the secure outcome and that alice's session is untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import type { AnalysisSession } from '../../src/api/v1alpha1/analysis-session.ts';
import { attack } from './attacks.ts';
import { deleteFreshNamespaces } from './cleanup.ts';
import { createDataset, readyIs, waitDataset } from './datasets.ts';
import { core, custom, kubeConfig, waitFor } from './helpers.ts';
import { startOperator } from './operator.ts';
import { editableConfig } from './ownership.ts';
import type { OperatorProcess } from './operator.ts';
import { createSession, isPhase, waitSession } from './sessions.ts';
import { childReaders, isGone, kubectlAs, kubectlCreate, proposalNamespace, snapshotChildren } from './tenants.ts';

const SESSIONS = 'analysissessions.panalysis.io';
const G = { group: 'panalysis.io', version: 'v1alpha1', plural: 'analysissessions' };
const TIMEOUT = 180_000;
const POLICY_USER = /ValidatingAdmissionPolicy 'panalysis-session-user'/;
const POLICY_NAMESPACE = /ValidatingAdmissionPolicy 'panalysis-proposal-namespace'/;
const RAW = { source: { nfs: { server: 'nfs01.facility.example', path: '/exp/p11/20231234/raw' } }, access: { readGroups: ['p20231234'] }, mountPath: '/data/raw' };
const CSI_DRIVER = 'spectrumscale.csi.ibm.com';
let operator: OperatorProcess;

beforeAll(async () => {
  // The demo configuration, with the CSI driver docs/datasets.md recommends: one fileset per proposal.
  const editable = editableConfig();
  editable.config.datasets.csi = [{ driver: CSI_DRIVER, volumeHandles: ['0;2;17389583;9A0B0A0A:5F2C1234;exp-{proposal};/gpfs/fs1/exp/{proposal}'] }];
  editable.write();
  operator = await startOperator({ resyncSeconds: 5, config: editable.file });
});
afterAll(async () => {
  await deleteFreshNamespaces();
  await operator?.stop();
});

const readSession = (ns: string, name: string) => custom().getNamespacedCustomObject({ ...G, namespace: ns, name }) as Promise<AnalysisSession>;
const jupyter = (user: string) => ({ user, type: 'jupyter' as const, profile: 'jupyter-scipy' });

/** Creates `user`'s session `name` (as that user) and returns its spec and children once it runs. */
async function runningSession(ns: string, name: string, user = 'alice'): Promise<{ spec: unknown; children: Record<string, unknown> }> {
  await createSession(ns, name, jupyter(user), user);
  const s = await waitSession(ns, name, 'Running', isPhase('Running'));
  return { spec: s.spec, children: await snapshotChildren(ns, name) };
}

/** Session `name` still runs, is not being deleted, and its spec and children are as before. */
async function expectUntouched(ns: string, name: string, before: { spec: unknown; children: Record<string, unknown> }): Promise<void> {
  const s = await readSession(ns, name);
  expect(s.metadata?.deletionTimestamp).toBeUndefined();
  expect(s.metadata?.ownerReferences).toBeUndefined();
  expect(s.spec).toEqual(before.spec);
  expect(s.status?.phase).toBe('Running');
  expect(await snapshotChildren(ns, name)).toEqual(before.children);
}

const patchAs = (user: string, ns: string, resource: string, name: string, patch: unknown, ...flags: string[]) =>
  kubectlAs(user, ['patch', resource, name, '-n', ns, '--type', 'merge', '-p', JSON.stringify(patch), ...flags]);

/** Binds `user` to a Role in `ns` with `rules`, and waits until RBAC lets it do `canI`. */
async function grant(ns: string, user: string, name: string, rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>, canI: string[]): Promise<void> {
  const rbac = kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({ namespace: ns, body: { metadata: { name }, rules } });
  await rbac.createNamespacedRoleBinding({ namespace: ns, body: { metadata: { name: `${user}-${name}` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name }, subjects: [{ kind: 'User', name: user, apiGroup: 'rbac.authorization.k8s.io' }] } });
  await waitFor(`${user} to be allowed to ${canI.join(' ')}`, async () => (await kubectlAs(user, ['auth', 'can-i', ...canI, '-n', ns])).ok, 30_000);
}

/** Whether `user` may do `canI` in `ns`, as RBAC answers (`kubectl auth can-i`). */
const canI = async (user: string, ns: string, ...args: string[]) => (await kubectlAs(user, ['auth', 'can-i', ...args, '-n', ns])).stdout.trim();

describe("another member's session, with the roles a proposal namespace grants scientists", () => {
  attack('R1', "bob (panalysis-portal and view, as README grants scientists) changes alice's session: shares it with himself, stops it, points its template at his repository, raises its resources",
    "each change refused naming the session and its user; alice's session keeps its spec and runs with the same children",
    async () => {
      const ns = await proposalNamespace('rv-spec', { alice: ['panalysis-portal', 'view'], bob: ['panalysis-portal', 'view'], portal: ['panalysis-portal'], 'facility-admin': ['panalysis-admin'] });
      const before = await runningSession(ns, 'nb');
      const changes = {
        sharedWith: { sharedWith: { users: ['bob'] } },
        state: { state: 'Stopped' },
        template: { template: { git: { url: 'https://git.example/bob/planted.git' } } },
        resources: { resources: { cpu: '64', memory: '512Gi' } },
      };
      for (const [field, spec] of Object.entries(changes)) {
        const r = await patchAs('bob', ns, SESSIONS, 'nb', { spec });
        expect(r.ok, `spec.${field}: ${r.stdout}`).toBe(false);
        expect(r.stderr).toMatch(POLICY_USER);
        expect(r.stderr).toMatch(/bob may not change session "nb" of alice: only its user, a trusted portal/);
      }
      await expectUntouched(ns, 'nb', before);
      // Those who may change it still can: a trusted portal, a proposal admin, alice herself.
      for (const [user, spec] of [['portal', { sharedWith: { users: ['bob'] } }], ['facility-admin', { lifetime: '2h' }], ['alice', { idleTimeout: '1h' }]] as const) {
        const r = await patchAs(user, ns, SESSIONS, 'nb', { spec });
        expect(r.stderr, user).toBe('');
      }
      const s = await readSession(ns, 'nb');
      expect([s.spec.sharedWith?.users, s.spec.lifetime, s.spec.idleTimeout]).toEqual([['bob'], '2h', '1h']);
      return 'sharedWith, state, template and resources changes by bob all refused (panalysis-session-user: "bob may not change session "nb" of alice"); spec and children unchanged, still Running; the portal, a proposal admin and alice may still change it';
    }, TIMEOUT);

  attack('R2', "bob makes alice's session a dependent of his own session (ownerReferences), then deletes his own: the garbage collector would delete hers",
    "the owner reference is refused; after bob's session is gone (404) alice's session still runs with the same children",
    async () => {
      const ns = await proposalNamespace('rv-owner', { alice: ['panalysis-portal', 'view'], bob: ['panalysis-portal', 'view'] });
      const before = await runningSession(ns, 'nb');
      await runningSession(ns, 'bobs', 'bob');
      const bobs = await readSession(ns, 'bobs');
      const owner = { apiVersion: 'panalysis.io/v1alpha1', kind: 'AnalysisSession', name: 'bobs', uid: bobs.metadata!.uid!, blockOwnerDeletion: false };
      const r = await patchAs('bob', ns, SESSIONS, 'nb', { metadata: { ownerReferences: [owner] } });
      expect(r.ok, r.stdout).toBe(false);
      expect(r.stderr).toMatch(POLICY_USER);
      expect(r.stderr).toMatch(/bob may not change session "nb" of alice/);
      const del = await kubectlAs('bob', ['delete', SESSIONS, 'bobs', '-n', ns, '--timeout=90s']);
      expect(del.stderr).toBe('');
      expect(await isGone(() => readSession(ns, 'bobs'))).toBe(true);
      await expectUntouched(ns, 'nb', before);
      return "owner reference refused (\"bob may not change session \"nb\" of alice\"); bob's session deleted (404), alice's still Running with the same children";
    }, TIMEOUT);

  attack('R3', 'bob with panalysis-portal creates a DatasetMount; members with panalysis-portal, panalysis-admin, edit or admin in the namespace relabel it to another proposal',
    'all forbidden by RBAC; no DatasetMount is created and the namespace keeps its proposal label',
    async () => {
      const ns = await proposalNamespace('rv-rbac', { bob: ['panalysis-portal', 'edit', 'admin'], 'facility-admin': ['panalysis-admin'] });
      const ds = await kubectlCreate('bob', ns, { apiVersion: 'panalysis.io/v1alpha1', kind: 'DatasetMount', metadata: { name: 'mine' }, spec: { ...RAW, access: { readGroups: ['p20231234'], writeGroups: ['p20231234'] } } });
      expect(ds.ok).toBe(false);
      expect(ds.stderr).toMatch(/datasetmounts\.panalysis\.io is forbidden: User "bob" cannot create resource "datasetmounts"/);
      expect(await isGone(() => custom().getNamespacedCustomObject({ group: 'panalysis.io', version: 'v1alpha1', plural: 'datasetmounts', namespace: ns, name: 'mine' }))).toBe(true);
      for (const user of ['bob', 'facility-admin']) {
        const r = await kubectlAs(user, ['label', 'namespace', ns, 'panalysis.io/proposal=20239999', '--overwrite']);
        expect(r.ok).toBe(false);
        expect(r.stderr).toMatch(new RegExp(`namespaces "${ns}" is forbidden: User "${user}" cannot (patch|get) resource "namespaces"`));
      }
      const live = await core().readNamespace({ name: ns });
      expect(live.metadata?.labels?.['panalysis.io/proposal']).toBe('20231234');
      return 'DatasetMount create forbidden (404 after); namespace relabel forbidden for edit/admin/panalysis-portal and panalysis-admin; label unchanged';
    }, TIMEOUT);

  attack('R4', "bob (panalysis-portal and view) looks for alice's session token: her Secret, pod, session and the namespace's events",
    "the Secret is forbidden; none of the objects bob can read contains the token",
    async () => {
      const ns = await proposalNamespace('rv-read', { alice: ['panalysis-portal', 'view'], bob: ['panalysis-portal', 'view'] });
      await runningSession(ns, 'nb');
      const secret = await core().readNamespacedSecret({ namespace: ns, name: 'nb-credentials' });
      const tokens = Object.values(secret.data ?? {}).map((v) => Buffer.from(v, 'base64').toString('utf8')).filter((t) => t.length >= 16);
      expect(tokens.length).toBeGreaterThan(0);
      const get = await kubectlAs('bob', ['get', 'secret', 'nb-credentials', '-n', ns, '-o', 'json']);
      expect(get.ok).toBe(false);
      expect(get.stderr).toMatch(/secrets "nb-credentials" is forbidden: User "bob" cannot get resource "secrets"/);
      const readable = await kubectlAs('bob', ['get', 'pods,events,analysissessions,networkpolicies,persistentvolumeclaims,configmaps', '-n', ns, '-o', 'json']);
      expect(readable.stderr).toBe('');
      expect(readable.stdout).toContain('"name": "nb"');
      for (const t of tokens) expect(readable.stdout.includes(t)).toBe(false);
      return "Secret forbidden (403); pods, events, sessions, policies, claims and ConfigMaps bob reads carry no token";
    }, TIMEOUT);
});

describe('proposal-namespace policy: subresources and kinds beyond the five guarded ones', () => {
  let ns: string;
  let before: { spec: unknown; children: Record<string, unknown> };
  let editFacts = '';

  beforeAll(async () => {
    ns = await proposalNamespace('rv-guard', { alice: ['panalysis-portal'], bob: ['edit'] });
    before = await runningSession(ns, 'nb');
    const facts = await Promise.all([
      canI('bob', ns, 'patch', 'pods', '--subresource=resize'),
      canI('bob', ns, 'create', 'endpointslices.discovery.k8s.io'),
      canI('bob', ns, 'create', 'endpoints'),
    ]);
    editFacts = `edit grants pods/resize: ${facts[0]}, endpointslices: ${facts[1]}, endpoints: ${facts[2]}`;
  }, TIMEOUT);

  attack('R5', "bob (edit) resizes alice's running pod in place (pods/resize): starve it, or, on his own, escape the profile's limits",
    "refused by the proposal-namespace policy; the pod's resources unchanged",
    async () => {
      if (!editFacts.includes('resize: yes')) await grant(ns, 'bob', 'resizer', [{ apiGroups: [''], resources: ['pods/resize'], verbs: ['get', 'patch', 'update'] }], ['patch', 'pods', '--subresource=resize']);
      const pod = await core().readNamespacedPod({ namespace: ns, name: 'nb' });
      const container = pod.spec!.containers[0]!;
      const r = await kubectlAs('bob', ['patch', 'pod', 'nb', '-n', ns, '--subresource', 'resize', '--type', 'strategic', '-p', JSON.stringify({ spec: { containers: [{ name: container.name, resources: { requests: { cpu: '1m' }, limits: { cpu: '1m' } } }] } })]);
      expect(r.ok, r.stdout).toBe(false);
      // kwok nodes do not declare in-place resize, so pod validation may refuse first; on nodes that
      // do, the policy is what refuses: it must match pods/resize.
      const byNode = /Pod running on node without support for resize/.test(r.stderr);
      if (!byNode) {
        expect(r.stderr).toMatch(POLICY_NAMESPACE);
        expect(r.stderr).toMatch(/pods\/resize "nb": bob may not update in proposal namespace/);
      }
      const policy = await kubectlAs('admin', ['get', 'validatingadmissionpolicy', 'panalysis-proposal-namespace', '-o', 'json']);
      const rules = (JSON.parse(policy.stdout) as { spec: { matchConstraints: { resourceRules: Array<{ apiGroups: string[]; operations: string[]; resources: string[] }> } } }).spec.matchConstraints.resourceRules;
      expect(rules.some((x) => x.apiGroups.includes('') && x.operations.includes('UPDATE') && x.resources.includes('pods/resize'))).toBe(true);
      const after = await core().readNamespacedPod({ namespace: ns, name: 'nb' });
      expect(after.spec!.containers[0]!.resources).toEqual(container.resources);
      await expectUntouched(ns, 'nb', before);
      return `refused (${byNode ? 'by pod validation: the kwok node declares no in-place resize' : 'pods/resize "nb": bob may not update'}); the installed policy matches pods/resize updates; resources unchanged (${editFacts})`;
    }, TIMEOUT);

  attack('R6', "bob adds an EndpointSlice labelled with the service name nb (kube-proxy would send traffic for a Service nb to his address)",
    "refused by the proposal-namespace policy; no EndpointSlice of bob's exists",
    async () => {
      if (!editFacts.includes('endpointslices: yes')) await grant(ns, 'bob', 'slicer', [{ apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['create', 'update', 'patch', 'delete'] }], ['create', 'endpointslices.discovery.k8s.io']);
      const slice = {
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
        metadata: { name: 'nb-hijack', labels: { 'kubernetes.io/service-name': 'nb', 'endpointslice.kubernetes.io/managed-by': 'bob' } },
        addressType: 'IPv4', endpoints: [{ addresses: ['10.244.9.9'] }], ports: [{ name: 'http', port: 8888, protocol: 'TCP' }],
      };
      const r = await kubectlCreate('bob', ns, slice);
      expect(r.ok, r.stdout).toBe(false);
      expect(r.stderr).toMatch(POLICY_NAMESPACE);
      expect(r.stderr).toMatch(/endpointslices "nb-hijack": bob may not create in proposal namespace/);
      const list = await kubectlAs('admin', ['get', 'endpointslices', '-n', ns, '-l', 'kubernetes.io/service-name=nb', '-o', 'json']);
      expect((JSON.parse(list.stdout) as { items: unknown[] }).items).toEqual([]);
      await expectUntouched(ns, 'nb', before);
      return `refused (endpointslices "nb-hijack": bob may not create); no EndpointSlice names nb (${editFacts})`;
    }, TIMEOUT);
});

describe('controllers as a way in', () => {
  attack('R10', "bob (edit) creates a StatefulSet whose claim template names the DatasetMount's claim (dataset-raw-0), with claims deleted with the set, then deletes the set",
    "the set's pod is refused (FailedCreate names the policy); the dataset claim gets no owner of bob's and survives the set's deletion",
    async () => {
      const ns = await proposalNamespace('rv-sts', { bob: ['edit'] });
      await createDataset(ns, 'raw-0', RAW);
      const ds = await waitDataset(ns, 'raw-0', 'Ready', readyIs('True'));
      expect(ds.status?.claimName).toBe('dataset-raw-0');
      const claimBefore = await core().readNamespacedPersistentVolumeClaim({ namespace: ns, name: 'dataset-raw-0' });
      const sts = {
        apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'raw' },
        spec: {
          serviceName: 'raw', replicas: 1, selector: { matchLabels: { app: 'raw' } },
          persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' },
          template: { metadata: { labels: { app: 'raw' } }, spec: { securityContext: { runAsUser: 20001, supplementalGroups: [30002] }, containers: [{ name: 'c', image: 'busybox', volumeMounts: [{ name: 'dataset', mountPath: '/d' }] }] } },
          volumeClaimTemplates: [{ metadata: { name: 'dataset' }, spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } } }],
        },
      };
      const created = await kubectlCreate('bob', ns, sts);
      expect(created.stderr).toBe('');
      let failure = '';
      await waitFor("the StatefulSet controller to report the refused pod", async () => {
        const events = await core().listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.kind=StatefulSet,involvedObject.name=raw,reason=FailedCreate' });
        failure = events.items.map((e) => e.message ?? '').find((m) => /pods? "?raw-0/.test(m)) ?? '';
        return failure !== '';
      }, 60_000);
      expect(failure).toMatch(/panalysis-proposal-namespace|may not create in proposal namespace/);
      expect(await isGone(() => core().readNamespacedPod({ namespace: ns, name: 'raw-0' }))).toBe(true);
      const claimMid = await core().readNamespacedPersistentVolumeClaim({ namespace: ns, name: 'dataset-raw-0' });
      expect(claimMid.metadata?.ownerReferences).toEqual(claimBefore.metadata?.ownerReferences);
      const del = await kubectlAs('bob', ['delete', 'statefulset', 'raw', '-n', ns, '--timeout=60s']);
      expect(del.stderr).toBe('');
      const claimAfter = await core().readNamespacedPersistentVolumeClaim({ namespace: ns, name: 'dataset-raw-0' });
      expect(claimAfter.metadata?.uid).toBe(claimBefore.metadata?.uid);
      expect(claimAfter.metadata?.deletionTimestamp).toBeUndefined();
      expect(claimAfter.metadata?.ownerReferences).toEqual(claimBefore.metadata?.ownerReferences);
      return `pod raw-0 refused ("${failure.slice(0, 90)}…"), 404; the dataset claim kept its owners and, after the set was deleted, its UID`;
    }, TIMEOUT);
});

describe('datasets, sharing and deletion', () => {
  attack('R7', 'alice names in her session a DatasetMount that exists only in another namespace of the same proposal',
    "not mounted: the session is refused with a condition naming the DatasetMount, no pod; the other namespace's claim unchanged",
    async () => {
      const other = await proposalNamespace('rv-ds-b', {});
      await createDataset(other, 'raw', RAW);
      const ds = await waitDataset(other, 'raw', 'Ready', readyIs('True'));
      const claimBefore = await core().readNamespacedPersistentVolumeClaim({ namespace: other, name: ds.status!.claimName! });
      const ns = await proposalNamespace('rv-ds-a', { alice: ['panalysis-portal'] });
      await createSession(ns, 'nb', { ...jupyter('alice'), datasets: [{ name: 'raw' }] }, 'alice');
      const s = await waitSession(ns, 'nb', 'a condition naming the DatasetMount raw', (x) => (x.status?.conditions ?? []).some((c) => c.status === 'False' && /\braw\b/.test(c.message ?? '')));
      expect(s.status?.phase).not.toBe('Running');
      expect(await isGone(childReaders(ns, 'nb').pod!)).toBe(true);
      const claimAfter = await core().readNamespacedPersistentVolumeClaim({ namespace: other, name: ds.status!.claimName! });
      expect(claimAfter.metadata?.uid).toBe(claimBefore.metadata?.uid);
      expect(claimAfter.metadata?.resourceVersion).toBe(claimBefore.metadata?.resourceVersion);
      const c = (s.status?.conditions ?? []).find((x) => x.status === 'False' && /\braw\b/.test(x.message ?? ''))!;
      return `phase ${s.status?.phase}, ${c.type}=False ${c.reason}: "${c.message?.slice(0, 100)}"; pod 404; the other namespace's claim unchanged`;
    }, TIMEOUT);

  attack('R11', "a proposal admin makes a DatasetMount whose pvc source is alice's home claim, or another DatasetMount's claim, to hand them to bob's session",
    "both refused naming the claim and its controller; bob's session does not start with them; alice's session and the claims unchanged",
    async () => {
      const ns = await proposalNamespace('rv-pvc', { alice: ['panalysis-portal'], bob: ['panalysis-portal'], 'facility-admin': ['panalysis-admin'] });
      await createDataset(ns, 'raw', RAW);
      await waitDataset(ns, 'raw', 'Ready', readyIs('True'));
      const before = await runningSession(ns, 'nb');
      const open = { readGroups: ['p20231234'], writeGroups: ['p20231234'] };
      const refusals: string[] = [];
      for (const [name, claim, owner] of [['alices-home', 'nb-home', 'AnalysisSession nb'], ['raw-rw', 'dataset-raw', 'DatasetMount raw']] as const) {
        const r = await kubectlCreate('facility-admin', ns, { apiVersion: 'panalysis.io/v1alpha1', kind: 'DatasetMount', metadata: { name }, spec: { source: { pvc: { claimName: claim } }, access: open, readOnly: false, mountPath: `/data/${name}` } });
        expect(r.stderr).toBe('');
        const ds = await waitDataset(ns, name, `refused naming ${claim}`, (d) => d.status?.conditions?.find((c) => c.type === 'Ready')?.reason === 'ClaimNotAllowed');
        const ready = ds.status!.conditions!.find((c) => c.type === 'Ready')!;
        expect(ready.status).toBe('False');
        expect(ready.message).toContain(`spec.source.pvc.claimName: PersistentVolumeClaim ${claim} is controlled by ${owner}`);
        refusals.push(ready.message!);
      }
      await createSession(ns, 'bobs', { ...jupyter('bob'), datasets: [{ name: 'alices-home' }, { name: 'raw-rw' }] }, 'bob');
      const s = await waitSession(ns, 'bobs', 'waiting for its datasets', (x) => x.status?.conditions?.some((c) => c.reason === 'DatasetNotReady') ?? false);
      expect(s.status?.phase).not.toBe('Running');
      expect(await isGone(childReaders(ns, 'bobs').pod!)).toBe(true);
      await expectUntouched(ns, 'nb', before);
      return `both refused (ClaimNotAllowed: "${refusals[0]!.slice(0, 90)}…"); bob's session waits (DatasetNotReady) without a pod; alice's session unchanged`;
    }, TIMEOUT);

  attack('R12', "a proposal's DatasetMount names, through an allowed CSI driver, the fileset of another proposal as its volumeHandle",
    'refused naming spec.source.csi.volumeHandle, as an nfs or hostPath path outside the proposal is; no volume with that handle is made',
    async () => {
      const ns = await proposalNamespace('rv-csi', {});
      const handle = '0;2;17389583;9A0B0A0A:5F2C1234;exp-20239999;/gpfs/fs1/exp/20239999';
      await createDataset(ns, 'theirs', { source: { csi: { driver: CSI_DRIVER, volumeHandle: handle } }, access: { readGroups: ['p20231234'] }, mountPath: '/data/theirs' });
      const ds = await waitDataset(ns, 'theirs', 'reconciled', (d) => d.status?.observedGeneration === 1 && (d.status?.conditions ?? []).some((c) => c.type === 'Ready'));
      const ready = ds.status!.conditions!.find((c) => c.type === 'Ready')!;
      const pvs = await core().listPersistentVolume();
      const made = pvs.items.filter((pv) => pv.spec?.csi?.volumeHandle === handle).map((pv) => pv.metadata?.name);
      expect({ status: ready.status, namesHandle: /spec\.source\.csi\.volumeHandle/.test(ready.message ?? ''), volumes: made })
        .toEqual({ status: 'False', namesHandle: true, volumes: [] });
      return `Ready=False ${ready.reason}: "${ready.message?.slice(0, 100)}"; no volume with that handle`;
    }, TIMEOUT);

  attack('R13', 'alice creates her session with the orphan finalizer already set, so that deleting it later would leave its home and credentials behind without an owner',
    'refused at creation naming the orphaning, like kubectl delete --cascade=orphan; no session exists',
    async () => {
      const ns = await proposalNamespace('rv-orphan', { alice: ['panalysis-portal'] });
      const r = await kubectlCreate('alice', ns, { apiVersion: 'panalysis.io/v1alpha1', kind: 'AnalysisSession', metadata: { name: 'nb', finalizers: ['orphan'] }, spec: jupyter('alice') });
      expect(r.ok, r.stdout).toBe(false);
      expect(r.stderr).toMatch(/ValidatingAdmissionPolicy 'panalysis-session-delete'/);
      expect(r.stderr).toMatch(/analysissessions "nb": orphaning its children is refused \(metadata\.finalizers: orphan\)/);
      expect(await isGone(() => readSession(ns, 'nb'))).toBe(true);
      return 'refused ("orphaning its children is refused (metadata.finalizers: orphan)"); the session answers 404';
    }, TIMEOUT);

  attack('R8', 'alice shares her session with carol, who is not a member of the proposal (spec.sharedWith.users)',
    'refused: the session reports spec.sharedWith.users naming carol as not a member of the proposal',
    async () => {
      const ns = await proposalNamespace('rv-share', { alice: ['panalysis-portal'] });
      await createSession(ns, 'nb', { ...jupyter('alice'), sharedWith: { users: ['carol'] } }, 'alice');
      const s = await waitSession(ns, 'nb', 'a condition naming spec.sharedWith.users and carol', (x) => (x.status?.conditions ?? []).some((c) => /sharedWith/.test(c.message ?? '') && /carol/.test(c.message ?? '')));
      const c = (s.status?.conditions ?? []).find((x) => /sharedWith/.test(x.message ?? ''))!;
      return `${c.type}=${c.status} ${c.reason}: "${c.message?.slice(0, 100)}"`;
    }, TIMEOUT);

  attack('R9', 'alice deletes her stopped session while it holds a foreign finalizer, then sets spec.state: Running on the session being deleted',
    'no pod is started: the operator observes the new generation, reports Deleting, and the pod answers 404',
    async () => {
      const ns = await proposalNamespace('rv-zombie', { alice: ['panalysis-portal'] });
      await runningSession(ns, 'nb');
      const stop = await patchAs('alice', ns, SESSIONS, 'nb', { spec: { state: 'Stopped' } });
      expect(stop.stderr).toBe('');
      await waitSession(ns, 'nb', 'Stopped', isPhase('Stopped'));
      await waitFor('the stopped session\'s pod to be deleted', () => isGone(childReaders(ns, 'nb').pod!), 60_000);
      const finalizers = (await readSession(ns, 'nb')).metadata?.finalizers ?? [];
      const hold = await patchAs('alice', ns, SESSIONS, 'nb', { metadata: { finalizers: [...finalizers, 'example.org/hold'] } });
      expect(hold.stderr).toBe('');
      const del = await kubectlAs('alice', ['delete', SESSIONS, 'nb', '-n', ns, '--wait=false']);
      expect(del.stderr).toBe('');
      const restart = await patchAs('alice', ns, SESSIONS, 'nb', { spec: { state: 'Running' } });
      expect(restart.stderr).toBe('');
      const generation = (await readSession(ns, 'nb')).metadata!.generation!;
      const s = await waitSession(ns, 'nb', `generation ${generation} observed`, (x) => (x.status?.observedGeneration ?? 0) >= generation);
      expect(s.status?.phase).toBe('Deleting');
      expect(await isGone(childReaders(ns, 'nb').pod!)).toBe(true);
      const live = await readSession(ns, 'nb');
      const at = (live.metadata?.finalizers ?? []).indexOf('example.org/hold');
      const unhold = await kubectlAs('admin', ['patch', SESSIONS, 'nb', '-n', ns, '--type=json', '-p', JSON.stringify([{ op: 'test', path: `/metadata/finalizers/${at}`, value: 'example.org/hold' }, { op: 'remove', path: `/metadata/finalizers/${at}` }])]);
      expect(unhold.stderr).toBe('');
      await waitFor('the session to be deleted', () => isGone(() => readSession(ns, 'nb')), 60_000);
      return `generation ${generation} (state Running) observed with phase Deleting and no pod (404); deleted once the foreign finalizer went`;
    }, TIMEOUT);
});

describe('the changed admission policies', () => {
  it('type-check on the apiserver without warnings', async () => {
    type Policy = { metadata: { name: string }; status?: { typeChecking?: { expressionWarnings?: unknown[] } } };
    let ours: Policy[] = [];
    await waitFor('the apiserver to type-check the policies', async () => {
      const out = await kubectlAs('admin', ['get', 'validatingadmissionpolicies', 'panalysis-session-user', 'panalysis-proposal-namespace', 'panalysis-session-delete', '-o', 'json']);
      ours = (JSON.parse(out.stdout) as { items: Policy[] }).items;
      return ours.length === 3 && ours.every((p) => p.status?.typeChecking !== undefined);
    }, 30_000);
    for (const p of ours) expect(p.status?.typeChecking?.expressionWarnings ?? [], p.metadata.name).toEqual([]);
  });
});

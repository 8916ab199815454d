// SPDX-License-Identifier: Apache-2.0
/**
 * Ownership of a session's children on the real apiserver: an object is a session's only
 * if its controller owner reference carries the session's UID, so a name taken by an
 * orphaned or pre-created object is never adopted, overwritten, mounted or read; deletion
 * (any cascade, a foreign finalizer) always stops the pod; every loss of the right to run
 * stops a running session after the grace period; hand edits of children are reverted;
 * directory groups below the minimum id and names that would break are refused. Every
 * attack also checks that a bystander, alice's running session, is untouched.
 */
import { StorageV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { attack } from './attacks.ts';
import { createDataset, readyIs, waitDataset } from './datasets.ts';
import { apiErrorMessage, core, freshNamespace, kubeConfig, waitFor } from './helpers.ts';
import { startOperator } from './operator.ts';
import type { OperatorProcess } from './operator.ts';
import { children, editableConfig, isGone, kubectlAs, networking, proposalNamespace, snapshot } from './ownership.ts';
import { grantRoles } from './tenants.ts';
import { createSession, getSession, isPhase, readyReason, waitSession } from './sessions.ts';

const TIMEOUT = 150_000;
const PROPOSAL = '20231234';
const editable = editableConfig();
let operator: OperatorProcess;
let ns: string;
let bystander: Record<string, unknown>;

const jupyter = (user: string, datasets?: string[]) => ({ user, type: 'jupyter' as const, profile: 'jupyter-scipy', ...(datasets ? { datasets: datasets.map((name) => ({ name })) } : {}) });
const condition = (s: Awaited<ReturnType<typeof getSession>>, type: string) => s.status?.conditions?.find((c) => c.type === type);

beforeAll(async () => {
  const { config } = editable;
  config.proposals.revocationGracePeriod = '4s';
  config.proposals.static[0].members.push('erin', 'frank', 'hank');
  config.directory.static.users.push(
    { name: 'erin', uid: 20005, gid: 20005, groups: ['wheel', 'p20231234'] },
    { name: 'frank', uid: 20006, gid: 20006, groups: ['p20231234'] },
    // Two accounts with one uidNumber: each could read and write the other's files.
    { name: 'hank', uid: 20010, gid: 20010, groups: ['p20231234'] },
    { name: 'ivan', uid: 20010, gid: 20011, groups: [] },
  );
  config.directory.static.groups.push({ name: 'wheel', gid: 0 });
  editable.write();
  operator = await startOperator({ config: editable.file });
  ns = await proposalNamespace('own', PROPOSAL, { alice: ['panalysis-portal'], bob: ['panalysis-portal'], portal: ['panalysis-portal'] });
  await createSession(ns, 'bystander', jupyter('alice'), 'alice');
  await waitSession(ns, 'bystander', 'Running', isPhase('Running'));
  bystander = await snapshot(ns, 'bystander');
}, TIMEOUT);

afterAll(async () => {
  // Sessions carry the operator's finalizer: delete the namespace while the operator still runs.
  await core().deleteNamespace({ name: ns }).catch(() => undefined);
  await waitFor(`namespace ${ns} to be deleted`, () => isGone(() => core().readNamespace({ name: ns })), 60_000).catch((err: Error) => console.error(err.message));
  await operator?.stop();
}, TIMEOUT);

/** The bystander still runs with the same children. */
async function expectBystanderUntouched(): Promise<void> {
  expect((await getSession(ns, 'bystander')).status?.phase).toBe('Running');
  expect(await snapshot(ns, 'bystander')).toEqual(bystander);
}

async function runningSession(name: string, spec: ReturnType<typeof jupyter>, as: string): Promise<Record<string, unknown>> {
  await createSession(ns, name, spec, as);
  await waitSession(ns, name, 'Running', isPhase('Running'));
  return snapshot(ns, name);
}

describe('children belong to exactly one session', () => {
  attack('O1', 'an admin orphans the children of alice\'s session (kubectl delete --cascade=orphan, or where admission refuses that, by removing their owner references and deleting it); bob creates a session of the same name',
    'alice\'s pod stops; her home claim and credentials are never adopted by bob\'s session, which waits with ChildConflict naming the claim and gets no pod',
    async () => {
      const before = await runningSession('o1', jupyter('alice'), 'alice');
      const orphaning = await kubectlAs('admin', ['delete', 'analysissessions.panalysis.io', 'o1', '-n', ns, '--cascade=orphan', '--timeout=60s']);
      let how = 'kubectl delete --cascade=orphan';
      if (!orphaning.ok) {
        // The admission policy refuses orphaning; leave the same state behind as an admin could by hand:
        // the claim and the Secret without their owner reference, then a plain delete.
        expect(orphaning.stderr).toMatch(/orphan/i);
        how = `orphaning refused ("${orphaning.stderr.trim().slice(0, 80)}…"), owner references removed by hand`;
        for (const kind of ['persistentvolumeclaim/o1-home', 'secret/o1-credentials']) {
          const strip = await kubectlAs('admin', ['patch', kind, '-n', ns, '--type=json', '-p', '[{"op":"remove","path":"/metadata/ownerReferences"}]']);
          expect(strip.ok, strip.stderr).toBe(true);
        }
        const del = await kubectlAs('admin', ['delete', 'analysissessions.panalysis.io', 'o1', '-n', ns, '--timeout=60s']);
        expect(del.ok, del.stderr).toBe(true);
      }
      await waitFor('session o1 to be deleted', () => isGone(() => getSession(ns, 'o1')), 60_000);
      await waitFor('alice\'s pod to be stopped', () => isGone(children(ns, 'o1').pod), 60_000);
      const orphaned = await children(ns, 'o1').homeClaim();
      expect(orphaned.metadata?.uid).toBe((before.homeClaim as { uid: string }).uid);
      expect(orphaned.metadata?.ownerReferences ?? []).toEqual([]);

      await createSession(ns, 'o1', jupyter('bob'), 'bob');
      const s = await waitSession(ns, 'o1', 'ChildConflict', (x) => readyReason(x) === 'ChildConflict');
      expect(s.status?.message).toMatch(/persistentvolumeclaim o1-home exists and is not owned by this session \(it has no controller\); delete or rename it/);
      expect(s.status?.phase).toBe('Pending');
      expect(await isGone(children(ns, 'o1').pod)).toBe(true);
      const claim = await children(ns, 'o1').homeClaim();
      expect({ uid: claim.metadata?.uid, owners: claim.metadata?.ownerReferences ?? [], user: claim.metadata?.labels?.['panalysis.io/user'] }).toEqual({ uid: orphaned.metadata?.uid, owners: [], user: 'alice' });
      const secret = await children(ns, 'o1').secret();
      expect(secret.data).toEqual((before.secret as { data: unknown }).data);
      expect(secret.metadata?.ownerReferences ?? []).toEqual([]);
      await expectBystanderUntouched();
      return `${how}; bob's session waits (ChildConflict: ${s.status?.message?.split(';')[0]}); no pod; alice's claim keeps its UID, no owner, user label alice; her token unchanged`;
    }, TIMEOUT);

  attack('O2', 'an admin pre-creates <name>-home and <name>-credentials with a known token; alice then creates session <name>',
    'the claim and Secret are never adopted, mounted or read; the session waits naming both; deleting the session leaves them in place',
    async () => {
      await core().createNamespacedPersistentVolumeClaim({ namespace: ns, body: { metadata: { name: 'o2-home' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } });
      await core().createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'o2-credentials' }, stringData: { token: 'known-token' } } });
      await createSession(ns, 'o2', jupyter('alice'), 'alice');
      const s = await waitSession(ns, 'o2', 'ChildConflict', (x) => readyReason(x) === 'ChildConflict');
      expect(s.status?.message).toMatch(/secret o2-credentials exists and is not owned by this session \(it has no controller\); delete or rename it/);
      expect(s.status?.message).toMatch(/persistentvolumeclaim o2-home exists and is not owned by this session/);
      expect(await isGone(children(ns, 'o2').pod)).toBe(true);

      const del = await kubectlAs('alice', ['delete', 'analysissessions.panalysis.io', 'o2', '-n', ns, '--timeout=60s']);
      expect(del.ok, del.stderr).toBe(true);
      await waitFor('session o2 to be deleted', () => isGone(() => getSession(ns, 'o2')), 60_000);
      const claim = await children(ns, 'o2').homeClaim();
      const secret = await children(ns, 'o2').secret();
      expect(claim.metadata?.ownerReferences ?? []).toEqual([]);
      expect(claim.metadata?.labels ?? {}).toEqual({});
      expect(secret.metadata?.ownerReferences ?? []).toEqual([]);
      expect(Buffer.from(secret.data!.token!, 'base64').toString()).toBe('known-token');
      await expectBystanderUntouched();
      return 'session waited (ChildConflict naming the Secret and the claim), no pod; after its deletion both objects remain, unowned, token unchanged';
    }, TIMEOUT);
});

describe('deletion never escapes the lifetime', () => {
  attack('O3', 'alice\'s running session gets a foreign finalizer, then is deleted',
    'the pod stops at once; the session reports phase Deleting (Ready=False) while the foreign finalizer holds it; only the operator\'s finalizer is removed',
    async () => {
      await runningSession('o3', jupyter('alice'), 'alice');
      const patch = await kubectlAs('admin', ['patch', 'analysissessions.panalysis.io', 'o3', '-n', ns, '--type=json', '-p', '[{"op":"add","path":"/metadata/finalizers/-","value":"example.com/hold"}]']);
      expect(patch.ok, patch.stderr).toBe(true);
      const del = await kubectlAs('admin', ['delete', 'analysissessions.panalysis.io', 'o3', '-n', ns, '--wait=false']);
      expect(del.ok, del.stderr).toBe(true);
      await waitFor('the pod of o3 to be stopped', () => isGone(children(ns, 'o3').pod), 60_000);
      const s = await waitSession(ns, 'o3', 'Deleting, held by the foreign finalizer', (x) => x.status?.phase === 'Deleting' && x.metadata.finalizers?.join() === 'example.com/hold' && /Waiting for the finalizers example\.com\/hold/.test(x.status?.message ?? ''));
      expect(condition(s, 'Ready')).toMatchObject({ status: 'False', reason: 'Deleting' });
      expect(s.metadata.deletionTimestamp).toBeDefined();
      const unhold = await kubectlAs('admin', ['patch', 'analysissessions.panalysis.io', 'o3', '-n', ns, '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers/0"}]']);
      expect(unhold.ok, unhold.stderr).toBe(true);
      await waitFor('session o3 to be deleted', () => isGone(() => getSession(ns, 'o3')), 60_000);
      await expectBystanderUntouched();
      return `pod stopped while the session was held; phase Deleting, Ready=False (Deleting), finalizers left: example.com/hold`;
    }, TIMEOUT);
});

describe('deletion never escapes the lifetime, even with the pod orphaned', () => {
  attack('O11', 'an admin removes the owner reference from a running session\'s pod (as an orphaning delete would), then deletes the session',
    'the orphaned pod (recognised by the session UID it carries) is stopped; the session and every pod of it are gone',
    async () => {
      await runningSession('o11', jupyter('alice'), 'alice');
      const strip = await kubectlAs('admin', ['patch', 'pod', 'o11', '-n', ns, '--type=json', '-p', '[{"op":"remove","path":"/metadata/ownerReferences"}]']);
      expect(strip.ok, strip.stderr).toBe(true);
      const del = await kubectlAs('admin', ['delete', 'analysissessions.panalysis.io', 'o11', '-n', ns, '--timeout=60s']);
      expect(del.ok, del.stderr).toBe(true);
      await waitFor('session o11 to be deleted', () => isGone(() => getSession(ns, 'o11')), 60_000);
      await waitFor('the orphaned pod to be stopped', () => isGone(children(ns, 'o11').pod), 60_000);
      await expectBystanderUntouched();
      return 'the pod without owner reference was stopped; session and pod answer 404';
    }, TIMEOUT);
});

describe('every loss of the right to run stops the session after the grace period', () => {
  attack('O4', 'a running session\'s user is removed from the directory',
    'the session is warned, then stopped after revocationGracePeriod; its home claim is kept',
    async () => {
      await runningSession('o4', jupyter('frank'), 'portal');
      editable.config.directory.static.users = editable.config.directory.static.users.filter((u: { name: string }) => u.name !== 'frank');
      editable.write();
      const warned = await waitSession(ns, 'o4', 'warned', (x) => /^Access revoked: spec\.user: "frank" does not exist/.test(x.status?.message ?? ''), 30_000);
      expect(warned.status?.phase).toBe('Running');
      await waitFor('frank\'s pod to be stopped', () => isGone(children(ns, 'o4').pod), 60_000);
      const s = await waitSession(ns, 'o4', 'stopped', (x) => x.status?.phase !== 'Running' && x.status?.phase !== 'Stopping');
      expect(condition(s, 'IdentityResolved')).toMatchObject({ status: 'False', reason: 'UserNotFound' });
      const events = await core().listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=o4' });
      expect(events.items.map((e) => e.reason)).toContain('AccessRevoked');
      expect((await children(ns, 'o4').homeClaim()).metadata?.deletionTimestamp).toBeUndefined();
      await expectBystanderUntouched();
      return `warned ("${warned.status?.message?.slice(0, 60)}…"), pod stopped after the grace period; now ${s.status?.phase} (${readyReason(s)}); home kept`;
    }, TIMEOUT);

  attack('O5', 'the DatasetMount a running session mounts is deleted',
    'the session is warned, then stopped after revocationGracePeriod',
    async () => {
      await createDataset(ns, 'o5data', { source: { nfs: { server: 'nfs01.facility.example', path: `/exp/p11/${PROPOSAL}/o5` } }, access: { readGroups: ['p20231234'] }, mountPath: '/data/o5' });
      await waitDataset(ns, 'o5data', 'Ready', readyIs('True'));
      await runningSession('o5', jupyter('bob', ['o5data']), 'bob');
      const del = await kubectlAs('admin', ['delete', 'datasetmounts.panalysis.io', 'o5data', '-n', ns, '--wait=false']);
      expect(del.ok, del.stderr).toBe(true);
      const warned = await waitSession(ns, 'o5', 'warned', (x) => /^Access revoked: spec\.datasets\[0\]/.test(x.status?.message ?? ''), 30_000);
      expect(warned.status?.phase).toBe('Running');
      await waitFor('bob\'s pod to be stopped', () => isGone(children(ns, 'o5').pod), 60_000);
      const s = await waitSession(ns, 'o5', 'stopped', (x) => x.status?.phase !== 'Running' && x.status?.phase !== 'Stopping');
      expect(['DatasetDeleted', 'DatasetNotFound']).toContain(condition(s, 'Authorized')?.reason);
      const events = await core().listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=o5' });
      expect(events.items.map((e) => e.reason)).toContain('AccessRevoked');
      await expectBystanderUntouched();
      return `warned ("${warned.status?.message?.slice(0, 60)}…"), pod stopped after the grace period; Authorized=False (${condition(s, 'Authorized')?.reason})`;
    }, TIMEOUT);
});

describe('the start of a run is the apiserver\'s', () => {
  attack('O13', 'in a namespace of no proposal where bob may edit pods, bob dates his session pod\'s run-started-at annotation to 2099 before the operator has recorded the start (his pod waits for its home volume), to stretch its lifetime and GPU hours',
    'the recorded run start is the pod\'s creation time, and the session expires 8 h after it',
    async () => {
      // A class that binds on the first consumer and that no provisioner serves: the pod exists, waits to be placed, and the start stays unrecorded for a few seconds.
      const storage = kubeConfig().makeApiClient(StorageV1Api);
      const className = `held-${process.pid}`;
      await storage.createStorageClass({ body: { metadata: { name: className }, provisioner: 'example.com/none', volumeBindingMode: 'WaitForFirstConsumer' } });
      const reloads = () => operator.logs.join('').split('Reloaded configuration').length;
      const before = reloads();
      editable.config.defaults.homeStorageClassName = className;
      editable.write();
      let free: string | undefined;
      try {
        await waitFor('the operator to reload its configuration', async () => reloads() > before, 30_000);
        const own = (free = await freshNamespace('own-free'));
        await grantRoles(own, { bob: ['panalysis-portal', 'edit'] });
        await createSession(own, 'o13', jupyter('bob'), 'bob');
        let pod: Awaited<ReturnType<ReturnType<typeof children>['pod']>> | undefined;
        await waitFor('the pod of o13', async () => (pod = await children(own, 'o13').pod().catch(() => undefined)) !== undefined, 30_000, '', 50);
        const forge = await kubectlAs('bob', ['annotate', '--overwrite', 'pod', 'o13', '-n', own, 'panalysis.io/run-started-at=2099-01-01T00:00:00Z']);
        expect(forge.ok, forge.stderr).toBe(true);
        // The forged date was in place before the operator recorded a start, so the attack did reach the operator.
        expect((await getSession(own, 'o13')).status?.runStartedAt).toBeUndefined();
        const s = await waitSession(own, 'o13', 'its run start recorded', (x) => x.status?.runStartedAt !== undefined, 30_000);
        const stamp: unknown = pod?.metadata?.creationTimestamp;
        const created = (stamp instanceof Date ? stamp.toISOString() : String(stamp)).replace('.000Z', 'Z');
        expect(s.status?.runStartedAt).toBe(created);
        expect(Date.parse(s.status!.expiresAt!) - Date.parse(created)).toBe(8 * 3600_000);
        await expectBystanderUntouched();
        return `runStartedAt ${s.status?.runStartedAt} (the pod's creation), expiresAt ${s.status?.expiresAt}; the forged 2099 start was ignored`;
      } finally {
        delete editable.config.defaults.homeStorageClassName;
        editable.write();
        if (free) {
          const gone = free;
          await core().deleteNamespace({ name: gone }).catch(() => undefined);
          await waitFor(`namespace ${gone} to be deleted`, () => isGone(() => core().readNamespace({ name: gone })), 60_000);
        }
        await storage.deleteStorageClass({ name: className }).catch(() => undefined);
      }
    }, TIMEOUT);
});

describe('identities and names', () => {
  attack('O6', 'a directory group with gid 0 is a DatasetMount\'s read group',
    'the session is refused with InvalidIdentity naming the group; no pod',
    async () => {
      await createDataset(ns, 'o6data', { source: { nfs: { server: 'nfs01.facility.example', path: `/exp/p11/${PROPOSAL}/o6` } }, access: { readGroups: ['wheel'] }, mountPath: '/data/o6' });
      await waitDataset(ns, 'o6data', 'Ready', readyIs('True'));
      await createSession(ns, 'o6', jupyter('erin', ['o6data']), 'portal');
      const s = await waitSession(ns, 'o6', 'InvalidIdentity', (x) => readyReason(x) === 'InvalidIdentity');
      expect(s.status?.message).toMatch(/directory group wheel \(gid 0\) of "erin" would grant access to the requested data, but sessions run only with groups of gid 1000 or higher/);
      expect(await isGone(children(ns, 'o6').pod)).toBe(true);
      await expectBystanderUntouched();
      return `refused: ${s.status?.message?.slice(0, 90)}…; no pod`;
    }, TIMEOUT);

  attack('O9', 'the directory gives a user the uidNumber of another account',
    'the session is refused with InvalidIdentity naming the other account; no pod',
    async () => {
      await createSession(ns, 'o9', jupyter('hank'), 'portal');
      const s = await waitSession(ns, 'o9', 'InvalidIdentity', (x) => readyReason(x) === 'InvalidIdentity');
      expect(s.status?.message).toMatch(/spec\.user: the directory entry of "hank" cannot be trusted: uid 20010 is also the uid of ivan/);
      expect(await isGone(children(ns, 'o9').pod)).toBe(true);
      await expectBystanderUntouched();
      return `refused: ${s.status?.message?.slice(0, 100)}…; no pod`;
    }, TIMEOUT);

  attack('O7', 'a session named dataset-<x> (its home claim would be the claim of DatasetMount <x>-home); a DatasetMount with a 63-character name',
    'the name is refused by the apiserver naming metadata.name; the long DatasetMount mounts under a volume name of at most 63 characters',
    async () => {
      const refusal = await createSession(ns, 'dataset-x', jupyter('alice'), 'alice').then(() => '', apiErrorMessage);
      expect(refusal).toMatch(/metadata\.name must not start with 'dataset-'/);
      const long = `o7${'d'.repeat(61)}`;
      await createDataset(ns, long, { source: { nfs: { server: 'nfs01.facility.example', path: `/exp/p11/${PROPOSAL}/o7` } }, access: { readGroups: ['p20231234'] }, mountPath: '/data/o7' });
      await waitDataset(ns, long, 'Ready', readyIs('True'));
      await runningSession('o7', jupyter('alice', [long]), 'alice');
      const volume = (await children(ns, 'o7').pod()).spec?.volumes?.find((v) => v.persistentVolumeClaim?.claimName?.includes(long));
      expect(volume?.name.length).toBeLessThanOrEqual(63);
      await expectBystanderUntouched();
      return `refused: "${refusal.slice(0, 80)}…"; the 63-character DatasetMount mounts as volume ${volume?.name} (${volume?.name.length} characters)`;
    }, TIMEOUT);
});

describe('children are compared exactly', () => {
  attack('O8', 'an admin adds a permissive rule to the NetworkPolicy of a namespace\'s sessions',
    'it is reverted to exactly what the operator wants; the pod is untouched',
    async () => {
      const before = await runningSession('o8', jupyter('alice'), 'alice');
      const np = await kubectlAs('admin', ['patch', 'networkpolicy', 'panalysis-sessions', '-n', ns, '--type=json', '-p', '[{"op":"add","path":"/spec/ingress/-","value":{"from":[{"podSelector":{}}]}}]']);
      expect(np.ok, np.stderr).toBe(true);
      await waitFor('the extra ingress rule to be removed', async () => (await networking().readNamespacedNetworkPolicy({ namespace: ns, name: 'panalysis-sessions' })).spec?.ingress?.length === 1, 30_000);
      const after = await snapshot(ns, 'o8');
      expect(after.networkPolicy).toEqual(before.networkPolicy);
      expect(after.pod).toEqual(before.pod);
      await expectBystanderUntouched();
      return 'the extra ingress rule was reverted; NetworkPolicy spec equals the operator\'s; same pod';
    }, TIMEOUT);

  attack('O10', 'an admin changes the image of a session\'s running pod',
    'the pod is replaced by one running the profile\'s image',
    async () => {
      const before = await runningSession('o10', jupyter('alice'), 'alice');
      const image = (await children(ns, 'o10').pod()).spec!.containers[0]!.image;
      const patch = await kubectlAs('admin', ['patch', 'pod', 'o10', '-n', ns, '--type=json', '-p', '[{"op":"replace","path":"/spec/containers/0/image","value":"registry.example/evil:1"}]']);
      expect(patch.ok, patch.stderr).toBe(true);
      await waitFor('the pod to be replaced', async () => {
        const pod = await children(ns, 'o10').pod().catch(() => undefined);
        return pod !== undefined && pod.metadata?.uid !== (before.pod as { uid: string }).uid && !pod.metadata?.deletionTimestamp;
      }, 60_000);
      const pod = await children(ns, 'o10').pod();
      expect(pod.spec?.containers[0]?.image).toBe(image);
      await waitSession(ns, 'o10', 'Running again', isPhase('Running'));
      await expectBystanderUntouched();
      return `the edited pod was replaced; the new pod runs ${image}`;
    }, TIMEOUT);

  attack('O12', 'an admin pre-creates a permissive NetworkPolicy named panalysis-sessions (not controlled by the namespace) in a new proposal namespace; alice then creates a session there',
    'the session waits naming the policy, no pod runs under it, the policy is untouched; once it is deleted the session starts under the operator\'s policy, controlled by the Namespace',
    async () => {
      const fresh = await proposalNamespace('own-np', PROPOSAL, { alice: ['panalysis-portal'] });
      try {
        const planted = await networking().createNamespacedNetworkPolicy({ namespace: fresh, body: { metadata: { name: 'panalysis-sessions', labels: { 'app.kubernetes.io/managed-by': 'panalysis', 'app.kubernetes.io/name': 'panalysis-session' } }, spec: { podSelector: {}, ingress: [{}], policyTypes: ['Ingress'] } } });
        await createSession(fresh, 'o12', jupyter('alice'), 'alice');
        const s = await waitSession(fresh, 'o12', 'ChildConflict', (x) => readyReason(x) === 'ChildConflict');
        expect(s.status?.message).toMatch(/networkpolicy panalysis-sessions exists and is not owned by namespace .*\(it has no controller\); delete or rename it/);
        expect(await isGone(children(fresh, 'o12').pod)).toBe(true);
        const still = await networking().readNamespacedNetworkPolicy({ namespace: fresh, name: 'panalysis-sessions' });
        expect({ uid: still.metadata?.uid, spec: still.spec, owners: still.metadata?.ownerReferences ?? [] }).toEqual({ uid: planted.metadata?.uid, spec: planted.spec, owners: [] });

        await networking().deleteNamespacedNetworkPolicy({ namespace: fresh, name: 'panalysis-sessions' });
        await waitSession(fresh, 'o12', 'Running', isPhase('Running'));
        const ours = await networking().readNamespacedNetworkPolicy({ namespace: fresh, name: 'panalysis-sessions' });
        const nsUid = (await core().readNamespace({ name: fresh })).metadata?.uid;
        expect(ours.metadata?.ownerReferences).toEqual([expect.objectContaining({ kind: 'Namespace', name: fresh, uid: nsUid, controller: true })]);
        expect(ours.spec?.podSelector?.matchLabels).toMatchObject({ 'panalysis.io/component': 'session' });
        await expectBystanderUntouched();
        return 'the session waited (ChildConflict naming the policy), no pod; the planted policy kept its UID and rules; after its deletion the session ran under the operator\'s policy, controlled by the Namespace';
      } finally {
        await core().deleteNamespace({ name: fresh }).catch(() => undefined);
        await waitFor(`namespace ${fresh} to be deleted`, () => isGone(() => core().readNamespace({ name: fresh })), 60_000).catch(() => undefined);
      }
    }, TIMEOUT);
});

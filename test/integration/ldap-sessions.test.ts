// SPDX-License-Identifier: Apache-2.0
/**
 * Sessions with the directory and proposals in a real OpenLDAP slapd, on the real local
 * control plane: the pod gets the user's uid/gid/groups from LDAP and the data its
 * groups allow, non-members are refused, a member removed from the proposal group
 * loses the running session after the grace period, and an LDAP outage or hang
 * neither stops running sessions nor crashes anything; new sessions wait and start
 * when LDAP is back.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { V1Pod } from '@kubernetes/client-node';
import type { AnalysisSession } from '../../src/api/v1alpha1/analysis-session.ts';
import { core, freshNamespace, waitFor } from './helpers.ts';
import { DEMO_CONFIG, startOperator } from './operator.ts';
import type { OperatorProcess } from './operator.ts';
import { createDataset, readyIs, waitDataset } from './datasets.ts';
import { createSession, getSession, isPhase, readyReason, waitSession } from './sessions.ts';
import { startSlapd } from './slapd.ts';
import type { Slapd } from './slapd.ts';
import { deleteFreshNamespaces } from './cleanup.ts';
import { expectGone, isGone } from './gone.ts';
import { writesDuringPasses } from './settle.ts';

let slapd: Slapd;
let operator: OperatorProcess;
let ns: string;

beforeAll(async () => {
  slapd = await startSlapd();
  const config = parse(readFileSync(DEMO_CONFIG, 'utf8')) as Record<string, any>;
  config.directory = {
    provider: 'ldap', minId: 1000,
    ldap: { url: slapd.url, bindDN: slapd.bindDN, bindPasswordFile: slapd.bindPasswordFile, userBase: `ou=people,${slapd.baseDN}`, groupBase: `ou=groups,${slapd.baseDN}`, timeoutMs: 1500, cacheTtlSeconds: 1, negativeCacheTtlSeconds: 1 },
  };
  config.proposals = { provider: 'ldap', revocationGracePeriod: '5s' };
  const file = join(mkdtempSync(join(tmpdir(), 'panalysis-ldap-')), 'operator.yaml');
  writeFileSync(file, stringify(config));
  operator = await startOperator({ config: file, resyncSeconds: 2 });
  ns = await freshNamespace('ldap', { 'panalysis.io/proposal': '20231234', 'pod-security.kubernetes.io/enforce': 'restricted' });
  await createDataset(ns, 'raw', { source: { nfs: { server: 'nfs01.facility.example', path: '/exp/p11/20231234/raw' } }, access: { readGroups: ['p20231234'] }, mountPath: '/data/raw' });
  await createDataset(ns, 'proc', { source: { hostPath: { path: '/gpfs/exfel/exp/p11/20231234/proc' } }, access: { readGroups: ['p20231234'], writeGroups: ['p20231234-writers'] }, mountPath: '/data/proc', readOnly: false, writableUntil: '2099-01-01T00:00:00Z' });
  await waitDataset(ns, 'raw', 'Ready', readyIs('True'));
  await waitDataset(ns, 'proc', 'Ready', readyIs('True'));
}, 120_000);

afterAll(async () => {
  await deleteFreshNamespaces(); // while the operator runs: DatasetMount finalizers remove the volumes
  await operator?.stop();
  await slapd?.close();
});

const pod = (name: string) => core().readNamespacedPod({ name, namespace: ns });
const mountOf = (p: V1Pod, path: string) => p.spec!.containers[0]!.volumeMounts!.find((m) => m.mountPath === path);
const identityReason = (reason: string) => (s: AnalysisSession) => s.status?.conditions?.find((c) => c.type === 'IdentityResolved')?.reason === reason;
const jupyter = (user: string) => ({ user, type: 'jupyter' as const, profile: 'jupyter-scipy', datasets: [{ name: 'raw' }, { name: 'proc' }] });

describe('sessions with a real LDAP directory', () => {
  it('gives a member the uid, gid and groups from LDAP, the data read-only and the writable data read-write', async () => {
    await createSession(ns, 'alice', jupyter('alice'));
    const s = await waitSession(ns, 'alice', 'Running', isPhase('Running'));
    expect(s.status?.identity).toMatchObject({ uid: 20001, gid: 20001 });
    expect(s.status?.identity?.groupNames).toEqual(expect.arrayContaining(['p20231234', 'p20231234-writers']));
    const p = await pod('alice');
    expect(p.spec?.securityContext).toMatchObject({ runAsUser: 20001, runAsGroup: 20001, supplementalGroups: [100, 30001, 30002] });
    expect(mountOf(p, '/data/raw')?.readOnly).toBe(true);
    expect(mountOf(p, '/data/proc')?.readOnly ?? false).toBe(false);
  });

  it('gives a reader only read access and only its proposal group', async () => {
    await createSession(ns, 'bob', jupyter('bob'));
    await waitSession(ns, 'bob', 'Running', isPhase('Running'));
    const p = await pod('bob');
    expect(p.spec?.securityContext?.supplementalGroups).toEqual([100, 30001]);
    expect(mountOf(p, '/data/proc')?.readOnly).toBe(true);
  });

  it('refuses a user who is not in the proposal group, and one without POSIX attributes', async () => {
    await createSession(ns, 'carol', jupyter('carol'));
    const carol = await waitSession(ns, 'carol', 'refused', (x) => readyReason(x) === 'NotProposalMember');
    expect(carol.status?.message).toMatch(/spec\.user: carol is not a member of proposal 20231234/);
    await createSession(ns, 'eve', jupyter('eve'));
    const eve = await waitSession(ns, 'eve', 'refused', (x) => readyReason(x) === 'UserNotFound');
    expect(eve.status?.message).toMatch(/spec\.user: "eve" does not exist in the facility directory/);
    await expectGone(pod('carol'), 'pod carol');
    await expectGone(pod('eve'), 'pod eve');
  });

  it('stops the running session of a user removed from the LDAP proposal group after the grace period', async () => {
    await createSession(ns, 'bob-revoked', jupyter('bob'));
    await waitSession(ns, 'bob-revoked', 'Running', isPhase('Running'));
    await slapd.modify(`dn: cn=p20231234,ou=groups,${slapd.baseDN}\nchangetype: modify\ndelete: memberUid\nmemberUid: bob\n`);
    const warned = await waitSession(ns, 'bob-revoked', 'warned', (x) => /Access revoked/.test(x.status?.message ?? ''), 30_000);
    expect(warned.status?.phase).toBe('Running');
    await waitFor('bob\'s pod to be deleted after the grace period', () => isGone(() => pod('bob-revoked')), 30_000);
    expect((await core().readNamespacedPersistentVolumeClaim({ name: 'bob-revoked-home', namespace: ns })).metadata?.name).toBe('bob-revoked-home');
    expect((await core().readNamespacedSecret({ name: 'bob-revoked-credentials', namespace: ns })).metadata?.name).toBe('bob-revoked-credentials');
  });

  it('keeps running sessions running while LDAP is down; new ones wait with a reason and start when it is back', async () => {
    await createSession(ns, 'steady', jupyter('alice'));
    await waitSession(ns, 'steady', 'Running', isPhase('Running'));
    const steadyPod = (await pod('steady')).metadata!.uid;
    await slapd.stop();
    // The operator has seen the outage (its 1 s cache expired): answers now need the server.
    await waitSession(ns, 'steady', 'the outage seen', identityReason('DirectoryUnavailable'));
    await createSession(ns, 'during-outage', { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy' });
    const waiting = await waitSession(ns, 'during-outage', 'waiting for the directory', (x) => readyReason(x) === 'DirectoryUnavailable');
    expect(waiting.status?.phase).toBe('Pending');
    expect(waiting.status?.message).toMatch(/The directory cannot be reached; the session waits and retries/);
    await writesDuringPasses(operator, 2); // two resyncs during the outage
    expect((await pod('steady')).metadata!.uid).toBe(steadyPod);
    const steady = await getSession(ns, 'steady');
    expect(steady.status?.phase).toBe('Running');
    expect(steady.status?.conditions?.find((c) => c.type === 'IdentityResolved')).toMatchObject({ status: 'Unknown', reason: 'DirectoryUnavailable' });
    expect(operator.child.exitCode).toBeNull();

    await slapd.start();
    await waitSession(ns, 'during-outage', 'Running', isPhase('Running'), 90_000);
    await waitSession(ns, 'steady', 'identity resolved again', (x) => x.status?.conditions?.find((c) => c.type === 'IdentityResolved')?.status === 'True');
    expect((await pod('steady')).metadata!.uid).toBe(steadyPod);
  });

  it('treats a hung LDAP server like an outage: bounded waits, then recovery', async () => {
    await createSession(ns, 'watcher', jupyter('alice'));
    await waitSession(ns, 'watcher', 'Running with its identity resolved', (x) => isPhase('Running')(x) && identityReason('Resolved')(x));
    slapd.pause();
    try {
      await waitSession(ns, 'watcher', 'the hang seen', identityReason('DirectoryUnavailable'));
      await createSession(ns, 'during-hang', { user: 'alice', type: 'jupyter', profile: 'jupyter-scipy' });
      const waiting = await waitSession(ns, 'during-hang', 'waiting for the directory', (x) => readyReason(x) === 'DirectoryUnavailable');
      expect(waiting.status?.message).toMatch(/did not answer within 1500 ms/);
    } finally {
      slapd.resume();
    }
    await waitSession(ns, 'during-hang', 'Running', isPhase('Running'), 90_000);
    expect(operator.child.exitCode).toBeNull();
  });
});

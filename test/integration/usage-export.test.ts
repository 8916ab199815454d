// SPDX-License-Identifier: Apache-2.0
/**
 * `panalysis usage` as a facility runs it: UsageRecords in two proposal namespaces, the
 * command run against the cluster, and the CSV and JSON an accountant reads (figures,
 * runs cut to the month, the proposal filter). Also: a record's spec cannot be changed.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GROUP, VERSION } from '../../src/api/v1alpha1/group.ts';
import { REPO_ROOT } from '../../src/cluster/binaries.ts';
import type { UsageReport } from '../../src/usage/render.ts';
import { parseCsv, usageRecord } from '../../src/usage/fixtures.ts';
import { deleteFreshNamespaces } from './cleanup.ts';
import { custom, freshNamespace, kubeConfig } from './helpers.ts';
import { kubectlAs } from './tenants.ts';

const run = promisify(execFile);
const cli = join(REPO_ROOT, 'bin', 'panalysis');
const P1 = `u${process.pid}a`;
const P2 = `u${process.pid}b`;
const NOVEMBER = ['--since', '2026-11-01', '--until', '2026-12-01'];

/** Runs `panalysis usage ...args` as the admin (or as test user `as`); resolves its exit code and output. */
async function usage(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return usageAs('admin', ...args);
}

async function usageAs(as: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const kubeconfig = as === 'admin' ? inject('kubeconfig') : inject('userKubeconfigs')[as]!;
  try {
    const { stdout, stderr } = await run(cli, ['usage', ...args], { env: { ...process.env, KUBECONFIG: kubeconfig } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** The CSV's rows as objects keyed by the header. */
function csvRows(text: string): Record<string, string>[] {
  const [header, ...lines] = parseCsv(text);
  return lines.map((line) => Object.fromEntries(header!.map((h, i) => [h, line[i]!])));
}

let nsA = '';
let nsB = '';

beforeAll(async () => {
  nsA = await freshNamespace('usage', { 'panalysis.io/proposal': P1 });
  nsB = await freshNamespace('usage', { 'panalysis.io/proposal': P2 });
  const records = [
    // Crosses into November: 2 of its 4 hours are November's.
    usageRecord('2026-10-31T22:00:00Z', '2026-11-01T02:00:00Z', { proposal: P1, session: 'lab', run: 1, gpus: 2 }, nsA),
    usageRecord('2026-11-10T08:00:00Z', '2026-11-10T11:00:00Z', { proposal: P1, session: 'lab', run: 2, gpus: 1, type: 'desktop, "xl"', endReason: 'Expired' }, nsA),
    // Crosses out of November: half an hour in it.
    usageRecord('2026-11-30T23:30:00Z', '2026-12-01T00:30:00Z', { proposal: P1, user: 'bob', session: 'bob-nb', gpus: 0, cpuMillis: 2000, gpuFlavour: '' }, nsA),
    usageRecord('2026-10-05T10:00:00Z', '2026-10-05T12:00:00Z', { proposal: P1, user: 'bob', session: 'bob-old', gpus: 1 }, nsA),
    usageRecord('2026-11-15T00:00:00Z', '2026-11-15T06:00:00Z', { proposal: P2, user: 'carol', session: 'carol-lab', gpus: 4, gpuFlavour: 'h100' }, nsB),
  ];
  // alice may read the records of nsA only, as a proposal member does.
  const rbac = kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({
    namespace: nsA,
    body: { metadata: { name: 'usage-reader' }, rules: [{ apiGroups: [GROUP], resources: ['usagerecords'], verbs: ['get', 'list'] }] },
  });
  await rbac.createNamespacedRoleBinding({
    namespace: nsA,
    body: {
      metadata: { name: 'alice-usage-reader' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'usage-reader' },
      subjects: [{ kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' }],
    },
  });
  for (const body of records) {
    await custom().createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: body.metadata.namespace!, plural: 'usagerecords', body });
  }
});

afterAll(() => deleteFreshNamespaces());

describe('panalysis usage', () => {
  it('exports one proposal\'s November as CSV, with runs cut to the month', async () => {
    const out = await usage('--proposal', P1, ...NOVEMBER);
    expect(out.code).toBe(0);
    expect(out.stdout.split('\r\n')[0]).toBe(
      'proposal,user,session,run,profile,type,gpus,gpuFlavour,cpuCores,memoryGiB,start,end,hours,gpuHours,cpuHours,endReason,imageDigest,namespace',
    );
    const rows = csvRows(out.stdout);
    expect(rows.map((r) => [r.user, r.session, r.run, r.start, r.end, r.hours, r.gpuHours, r.cpuHours])).toEqual([
      ['alice', 'lab', '1', '2026-10-31T22:00:00Z', '2026-11-01T02:00:00Z', '2', '4', '8'],
      ['alice', 'lab', '2', '2026-11-10T08:00:00Z', '2026-11-10T11:00:00Z', '3', '3', '12'],
      ['bob', 'bob-nb', '1', '2026-11-30T23:30:00Z', '2026-12-01T00:30:00Z', '0.5', '0', '1'],
    ]);
    expect(rows[1]).toMatchObject({ proposal: P1, type: 'desktop, "xl"', gpus: '1', gpuFlavour: 'a100', cpuCores: '4', memoryGiB: '16', endReason: 'Expired', imageDigest: 'sha256:0123abcd', namespace: nsA });
  });

  it('exports every proposal as JSON with totals per proposal and user', async () => {
    const out = await usage(...NOVEMBER, '--format', 'json');
    expect(out.code).toBe(0);
    const report = JSON.parse(out.stdout) as UsageReport;
    expect([report.since, report.until]).toEqual(['2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z']);
    expect(report.runs.filter((r) => r.proposal === P2)).toMatchObject([{ user: 'carol', hours: 6, gpuHours: 24, gpuFlavour: 'h100', namespace: nsB }]);
    expect(report.totals.filter((t) => t.proposal === P1 || t.proposal === P2)).toEqual([
      {
        proposal: P1, runs: 3, hours: 5.5, gpuHours: 7, cpuHours: 21,
        users: [
          { user: 'alice', runs: 2, hours: 5, gpuHours: 7, cpuHours: 20 },
          { user: 'bob', runs: 1, hours: 0.5, gpuHours: 0, cpuHours: 1 },
        ],
      },
      { proposal: P2, runs: 1, hours: 6, gpuHours: 24, cpuHours: 24, users: [{ user: 'carol', runs: 1, hours: 6, gpuHours: 24, cpuHours: 24 }] },
    ]);
  });

  it('without an interval gives whole runs; --namespace reads one namespace', async () => {
    const all = csvRows((await usage('--proposal', P1)).stdout);
    expect(all.map((r) => [r.session, r.run, r.hours, r.gpuHours])).toEqual([
      ['bob-old', '1', '2', '2'],
      ['lab', '1', '4', '8'],
      ['lab', '2', '3', '3'],
      ['bob-nb', '1', '1', '0'],
    ]);
    const one = csvRows((await usage('--namespace', nsB)).stdout);
    expect(one.map((r) => [r.proposal, r.session])).toEqual([[P2, 'carol-lab']]);
  });

  it('refuses a bad flag with one line naming it, and exit code 2', async () => {
    const out = await usage('--proposal', P1, '--since', 'last-month');
    expect(out.code).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr.trim().split('\n')).toEqual([expect.stringContaining('--since "last-month" is not a date or instant; give a date like 2026-11-01')]);
  });

  it('lets a proposal member export the namespace they may read, and says so when they ask for all', async () => {
    const mine = await usageAs('alice', '--namespace', nsA, ...NOVEMBER);
    expect(mine.code).toBe(0);
    expect(csvRows(mine.stdout).map((r) => [r.session, r.run])).toEqual([['lab', '1'], ['lab', '2'], ['bob-nb', '1']]);
    const all = await usageAs('alice', ...NOVEMBER);
    expect(all.code).toBe(1);
    expect(all.stderr).toContain('add --namespace NS');
    expect((await usageAs('alice', '--namespace', nsB)).code).toBe(1);
  });

  it('keeps a record\'s spec: kubectl patch is refused', async () => {
    const patch = await kubectlAs('admin', ['patch', 'usagerecords.panalysis.io', 'lab-r1', '-n', nsA, '--type', 'merge', '-p', '{"spec":{"gpus":0}}']);
    expect(patch.ok).toBe(false);
    expect(patch.stderr).toContain('spec is immutable');
    const rows = csvRows((await usage('--proposal', P1, ...NOVEMBER)).stdout);
    expect(rows.find((r) => r.session === 'lab' && r.run === '1')).toMatchObject({ gpus: '2', gpuHours: '4' });
  });
});

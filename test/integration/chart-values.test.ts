// SPDX-License-Identifier: Apache-2.0
/**
 * The chart refuses wrong values before anything reaches the cluster (values.schema.json,
 * generated from the operator configuration schema), lints clean, and what it renders with
 * its defaults is accepted by the real apiserver (server-side dry run).
 */
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { findBinaries, REPO_ROOT } from '../../src/cluster/binaries.ts';
import { freshNamespace } from './helpers.ts';
import { deleteNamespace } from './cleanup.ts';

const run = promisify(execFile);
const chart = join(REPO_ROOT, 'charts', 'panalysis');
const env = () => ({ ...process.env, KUBECONFIG: inject('kubeconfig') });
const helm = (...args: string[]) => run(findBinaries().helm, args, { env: env() });

/** Runs helm expecting it to fail; resolves its stderr. */
async function helmFails(...args: string[]): Promise<string> {
  try {
    await helm(...args);
  } catch (err) {
    return (err as { stderr: string }).stderr;
  }
  throw new Error(`helm ${args.join(' ')} succeeded; it should have refused the values`);
}

let ns = '';
afterAll(async () => {
  if (ns) await deleteNamespace(ns);
});

describe('Helm chart values', () => {
  it('lints without warnings', async () => {
    const { stdout } = await helm('lint', chart, '--strict');
    expect(stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
  });

  it('helm install with a wrong value fails with the schema message, and installs nothing', async () => {
    ns = await freshNamespace('chart-values');
    const cases: Array<[string[], RegExp]> = [
      [['--set', 'config.gpuFlavors[0].name=a100'], /at '\/config': additional properties 'gpuFlavors' not allowed/],
      [['--set', 'config.profiles[0].name=Bad_Name'], /at '\/config\/profiles\/0\/name': 'Bad_Name' does not match pattern/],
      [['--set', 'config.datasets.hostPath[0]=relative/path'], /at '\/config\/datasets\/hostPath\/0': 'relative\/path' does not match pattern/],
      [['--set', 'config.directory.provider=kerberos'], /at '\/config\/directory\/provider'/],
      [['--set', 'config.network.egress.mode=Open'], /at '\/config\/network\/egress\/mode'/],
      [['--set', 'operator.replicas=0'], /at '\/operator\/replicas': minimum: got 0, want 1/],
      [['--set', 'image.pullPolicy=Sometimes'], /at '\/image\/pullPolicy'/],
      [['--set', 'gateway.replicas=0'], /at '\/gateway\/replicas': minimum: got 0, want 1/],
      [['--set', 'gateway.spreadAcrossNodes=Always'], /at '\/gateway\/spreadAcrossNodes'/],
      [['--set', 'gateway.cookieKey.secretName='], /at '\/gateway\/cookieKey\/secretName'/],
    ];
    for (const [args, message] of cases) {
      const stderr = await helmFails('install', 'bad', chart, '-n', ns, '--skip-crds', ...args);
      expect(stderr, args.join(' ')).toMatch(/values don't meet the specifications of the schema/);
      expect(stderr, args.join(' ')).toMatch(message);
    }
    const { stdout } = await helm('list', '-n', ns, '-a', '-q');
    expect(stdout.trim()).toBe('');
  });

  it('renders with its defaults into objects the apiserver accepts (server-side dry run)', async () => {
    const bins = findBinaries();
    // The objects name their namespaces (the release's, and `default` for the Role that reads the
    // apiserver's endpoints); conflicts with the cluster's own copy of the admission policies and
    // user roles are forced, which a dry run never writes.
    const { stdout: rendered } = await helm('template', 'panalysis', chart, '-n', ns, '--skip-crds', '--kube-version', bins.k8sVersion);
    const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(bins.kubectl, ['apply', '--dry-run=server', '--server-side', '--force-conflicts', '--field-manager=chart-test', '-f', '-'], { env: env() });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', (code) => resolve({ code, out }));
      child.stdin.end(rendered);
    });
    expect(result.out).not.toMatch(/error|invalid|does not match/i);
    expect(result.code, result.out).toBe(0);
    // Every kind the chart ships was checked.
    for (const kind of ['deployment.apps/panalysis-operator', 'configmap/panalysis-config', 'serviceaccount/panalysis-operator', 'clusterrole.rbac.authorization.k8s.io/panalysis-operator',
      'deployment.apps/panalysis-gateway', 'serviceaccount/panalysis-gateway', 'service/panalysis-gateway', 'poddisruptionbudget.policy/panalysis-gateway', 'clusterrole.rbac.authorization.k8s.io/panalysis-gateway-namespaced']) {
      expect(result.out).toContain(kind);
    }
  });
});

// SPDX-License-Identifier: Apache-2.0
/**
 * The chart's quota values and its GPU-flavour policy (panalysis-quota-flavours) on the
 * real apiserver: the facility default quota of values.yaml passes the values schema and
 * renders a configuration the operator accepts, a misspelt key is refused, and a
 * ResourceQuota (panalysis.io) that names a GPU flavour the facility does not have is
 * refused with a message naming the field, the flavour and the known flavours.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { findBinaries, REPO_ROOT } from '../../src/cluster/binaries.ts';
import { parseConfig } from '../../src/config/load.ts';
import { apiErrorMessage, freshNamespace, kubectl, objects, waitFor } from './helpers.ts';
import { deleteFreshNamespaces } from './cleanup.ts';

const run = promisify(execFile);
const POLICY = 'panalysis-quota-flavours';
const FLAVOURS = [{ name: 'a100', resource: 'nvidia.com/gpu' }, { name: 'a100-1g', resource: 'nvidia.com/mig-1g.10gb' }];
const KNOWN = 'flavours of this facility: a100, a100-1g';
type Obj = Record<string, any>;

/** The commented `quotas.default` example of values.yaml, uncommented. */
function valuesExample(): Obj {
  const lines = readFileSync(join(REPO_ROOT, 'charts', 'panalysis', 'values.yaml'), 'utf8').split('\n');
  const start = lines.findIndex((l) => /^ {2}# {3}default:$/.test(l));
  expect(start, 'values.yaml shows a commented facility default quota').toBeGreaterThan(0);
  const block = [];
  for (const line of lines.slice(start)) {
    if (!/^ {2}# {3}/.test(line)) break;
    block.push(line.replace(/^ {2}# {3}/, ''));
  }
  return (parse(block.join('\n')) as Obj).default;
}

/** `helm template` of the chart with `values`; rejects with helm's stderr. */
async function render(values: Obj): Promise<Obj[]> {
  const file = join(inject('clusterDir'), `quota-values-${process.pid}-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify(values));
  const { stdout } = await run(findBinaries().helm, ['template', 'panalysis', join(REPO_ROOT, 'charts', 'panalysis'), '-n', 'panalysis-system', '--kube-version', findBinaries().k8sVersion, '-f', file]);
  return parseAllDocuments(stdout).map((d) => d.toJS() as Obj).filter((o) => o?.kind);
}

const renderError = (values: Obj) => render(values).then(() => '', (err: { stderr?: string }) => err.stderr ?? String(err));

let ns = '';
let installed: Obj[] = [];

beforeAll(async () => {
  ns = await freshNamespace('quota-flavours', { 'panalysis.io/proposal': '20231234' });
  const rendered = await render({ config: { gpuFlavours: FLAVOURS } });
  installed = rendered.filter((o) => o.metadata?.name === POLICY);
  // The cluster is shared with later test files: the binding judges this file's namespace only.
  const binding = installed.find((o) => o.kind === 'ValidatingAdmissionPolicyBinding');
  if (binding) binding.spec.matchResources = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } };
  for (const o of installed) await objects().create(o as never);
});

afterAll(async () => {
  for (const o of installed) await objects().delete(o as never).catch(() => undefined);
  await deleteFreshNamespaces();
});

const quota = (name: string, spec: Obj) => ({ apiVersion: 'panalysis.io/v1alpha1', kind: 'ResourceQuota', metadata: { name, namespace: ns }, spec });
const refusal = (p: Promise<unknown>) => p.then(() => '', apiErrorMessage);
const beamtime = (hard: Obj) => ({ name: 'beamtime', start: '2026-12-07T08:00:00Z', end: '2026-12-10T08:00:00Z', hard });
const after = (hard: Obj) => ({ name: 'after', start: '2026-12-10T08:00:00Z', end: '2027-01-10T08:00:00Z', hard });

describe('quota values of the chart', () => {
  it('accept the facility default quota shown in values.yaml, and the operator loads what they render', async () => {
    const example = valuesExample();
    expect(example).toMatchObject({ hard: { sessions: 4, sessionsPerUser: 2, gpus: 2, maxSessionDuration: '12h' }, budgets: { gpuHours: 200, onExhausted: 'Warn' } });
    const rendered = await render({ config: { quotas: { default: example } } });
    const cm = rendered.find((o) => o.kind === 'ConfigMap');
    const config = parseConfig(cm!.data['operator.yaml'] as string, 'the rendered ConfigMap');
    expect(config.quotas).toEqual({ defaultName: 'default', default: example });
  });

  it('refuse a misspelt key in the default quota, naming it', async () => {
    const stderr = await renderError({ config: { quotas: { default: { hard: { gpu: 2 } } } } });
    expect(stderr).toMatch(/values don't meet the specifications of the schema/);
    expect(stderr).toMatch(/at '\/config\/quotas\/default\/hard': additional properties 'gpu' not allowed/);
    expect(await renderError({ config: { quotas: { default: { budgets: { onExhausted: 'Kill' } } } } })).toMatch(/at '\/config\/quotas\/default\/budgets\/onExhausted'/);
  });

  it('install no flavour policy for a facility without GPU flavours', async () => {
    expect((await render({})).filter((o) => o.metadata?.name === POLICY)).toEqual([]);
    expect((await render({ config: { gpuFlavours: FLAVOURS }, admission: { enabled: false } })).filter((o) => o.metadata?.name === POLICY)).toEqual([]);
  });
});

describe('the GPU-flavour policy of quotas', () => {
  it('type-checks on the apiserver without warnings, and is in force', async () => {
    expect(installed.map((o) => o.kind).sort()).toEqual(['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
    let warnings: unknown[] | undefined;
    await waitFor('the apiserver to type-check the policy', async () => {
      const live = JSON.parse(await kubectl('get', 'validatingadmissionpolicy', POLICY, '-o', 'json')) as Obj;
      warnings = live.status?.typeChecking ? (live.status.typeChecking.expressionWarnings ?? []) : undefined;
      return warnings !== undefined;
    }, 30_000);
    expect(warnings).toEqual([]);
    // A new policy takes effect once the apiserver's admission plugin has seen it.
    await waitFor('the policy to refuse an unknown flavour', async () => {
      const message = await refusal(objects().create(quota('probe', { hard: { gpusPerFlavour: { h100: 1 } } }) as never));
      if (!message) await objects().delete(quota('probe', {}) as never);
      return message.includes(`ValidatingAdmissionPolicy '${POLICY}'`);
    }, 30_000);
  });

  it('accepts a quota that names only known flavours, in spec.hard and in windows', async () => {
    await objects().create(quota('known', {
      hard: { gpus: 2, gpusPerFlavour: { a100: 1, 'a100-1g': 2 } },
      windows: [beamtime({ gpus: 4, gpusPerFlavour: { a100: 4 } }), after({ gpusPerFlavour: { 'a100-1g': 1 } })],
    }) as never);
    await objects().create(quota('no-flavours', { hard: { sessions: 4, gpus: 2 } }) as never);
  });

  it('refuses an unknown flavour in spec.hard.gpusPerFlavour, naming the field, the flavour and the known ones', async () => {
    const message = await refusal(objects().create(quota('h100', { hard: { gpusPerFlavour: { a100: 1, h100: 2 } } }) as never));
    expect(message).toContain(`ValidatingAdmissionPolicy '${POLICY}'`);
    expect(message).toContain(`spec.hard.gpusPerFlavour: unknown GPU flavour h100; ${KNOWN}`);
  });

  it('names every unknown flavour', async () => {
    const message = await refusal(objects().create(quota('two', { hard: { gpusPerFlavour: { h100: 1, v100: 2 } } }) as never));
    expect(message).toMatch(new RegExp(`spec\\.hard\\.gpusPerFlavour: unknown GPU flavours (h100, v100|v100, h100); ${KNOWN}`));
  });

  it('refuses an unknown flavour in a window, naming the window by its index', async () => {
    const message = await refusal(objects().create(quota('window', { windows: [beamtime({ gpusPerFlavour: { a100: 4 } }), after({ gpusPerFlavour: { 'a100-2g': 1 } })] }) as never));
    expect(message).toContain(`spec.windows[1].hard.gpusPerFlavour: unknown GPU flavour a100-2g; ${KNOWN}`);
  });

  it('refuses an update that adds an unknown flavour, and keeps the quota as it was', async () => {
    const patch = { apiVersion: 'panalysis.io/v1alpha1', kind: 'ResourceQuota', metadata: { name: 'known', namespace: ns }, spec: { hard: { gpusPerFlavour: { h100: 1 } } } };
    const message = await refusal(objects().patch(patch as never, undefined, undefined, 'test', undefined, 'application/merge-patch+json' as never));
    expect(message).toContain(`spec.hard.gpusPerFlavour: unknown GPU flavour h100; ${KNOWN}`);
    const live = (await objects().read(quota('known', {}) as never)) as Obj;
    expect(live.spec.hard.gpusPerFlavour).toEqual({ a100: 1, 'a100-1g': 2 });
  });
});

// SPDX-License-Identifier: Apache-2.0
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseConfig } from './load.ts';
import type { ConfigError } from './load.ts';
import { ConfigHolder } from './watch.ts';

const demoPath = join(import.meta.dirname, '..', '..', 'manifests', 'config', 'operator.yaml');
const demo = () => parse(readFileSync(demoPath, 'utf8')) as Record<string, any>;

function problemsOf(mutate: (c: Record<string, any>) => void): string[] {
  const c = demo();
  mutate(c);
  try {
    parseConfig(stringify(c));
    return [];
  } catch (err) {
    return (err as ConfigError).problems;
  }
}

describe('operator configuration', () => {
  it('accepts the demo configuration and fills defaults', () => {
    const c = demo();
    delete c.gateway.namespace;
    const config = parseConfig(stringify(c));
    expect(config.gateway.namespace).toBe('panalysis-system');
    expect(config.profiles.map((p) => p.name)).toEqual(['jupyter-scipy', 'desktop-xfce', 'jupyter-local', 'desktop-local']);
    expect(config.profiles.find((p) => p.name === 'jupyter-local')).toMatchObject({ defaults: { cpu: '500m' }, nodeSelector: { 'panalysis.io/real-node': 'true' } });
    expect(config.network.egress.mode).toBe('Restricted');
    expect(config.network.egress.allow[0]).toEqual({ cidr: '0.0.0.0/0', except: expect.arrayContaining(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16', '127.0.0.0/8']) });
    expect(config.network.egress.allow[1]).toEqual({ cidr: '::/0', except: expect.arrayContaining(['fc00::/7', 'fe80::/10', '64:ff9b::/96', '64:ff9b:1::/48', '2002::/16']) });
    expect(config.network.egress.excludeApiserver).toBe(true);
  });

  const cases: Record<string, [(c: Record<string, any>) => void, RegExp]> = {
    'an unknown GPU flavour in a profile': [(c) => (c.profiles[0].gpuFlavours = ['h100']), /profiles\[0\]\.gpuFlavours: unknown GPU flavour "h100"; defined flavours: a100, a100-1g/],
    'a profile type that does not exist': [(c) => (c.profiles[0].type = 'vm'), /profiles\[0\]\.type: .*jupyter, desktop/],
    'defaults above limits': [(c) => (c.profiles[1].defaults.cpu = 64), /profiles\[1\]\.defaults\.cpu: 64 exceeds profiles\[1\]\.limits\.cpu \(32\)/],
    'a duplicate profile name': [(c) => (c.profiles[1].name = 'jupyter-scipy'), /profiles: the name "jupyter-scipy" is used twice/],
    'a missing gateway URL': [(c) => delete c.gateway.baseUrl, /gateway(\.baseUrl)?: .*baseUrl/],
    'an image with upper case': [(c) => (c.profiles[0].image = 'Quay.io/X'), /profiles\[0\]\.image/],
    'a lifetime above the maximum': [(c) => (c.defaults.lifetime = '100h'), /defaults\.lifetime: 100h exceeds defaults\.maxLifetime \(72h\)/],
    'protocols on a notebook profile': [(c) => (c.profiles[0].protocols = ['vnc']), /profiles\[0\]\.protocols: only desktop profiles/],
  };
  it.each(Object.entries(cases))('reports %s with its path', (_name, [mutate, want]) => {
    expect(problemsOf(mutate).join('\n')).toMatch(want);
  });

  it('refuses misspelt keys at any depth, naming each', () => {
    const c = demo();
    c.gpuFlavors = [];
    c.profiles[0].imagegroups = [100];
    c.datasets = { ...c.datasets, hostPaths: ['/gpfs'] };
    let problems: string[] = [];
    try {
      parseConfig(stringify(c));
    } catch (err) {
      problems = (err as ConfigError).problems;
    }
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^\(root\): unknown key "gpuFlavors"/),
      expect.stringMatching(/^profiles\[0\]: unknown key "imagegroups"/),
      expect.stringMatching(/^datasets: unknown key "hostPaths"/),
    ]));
    expect(problems).toHaveLength(3);
  });

  it('loads a facility default quota', () => {
    const c = demo();
    c.quotas = { default: { hard: { sessions: 4, sessionsPerUser: 2, gpus: 2, gpusPerFlavour: { a100: 1 }, maxSessionDuration: '12h' }, budgets: { gpuHours: 200, onExhausted: 'Warn' }, onExceeded: 'Queue' } };
    const config = parseConfig(stringify(c));
    expect(config.quotas.defaultName).toBe('default');
    expect(config.quotas.default).toEqual(c.quotas.default);
  });

  it('takes a lifecycle section with only idle culling, filling the rest with defaults', () => {
    const c = demo();
    c.lifecycle = { idle: { timeout: '2h', gpuTimeout: '30m' } };
    const config = parseConfig(stringify(c));
    expect(config.lifecycle).toEqual({ warnings: ['1h', '10m'], renewals: { step: '2h', maxCount: 3 }, idle: { timeout: '2h', gpuTimeout: '30m', warnBefore: '10m' } });
    expect(parseConfig(stringify(demo())).lifecycle.idle).toEqual({ warnBefore: '10m' });
  });

  it('runs proposals without a default quota when none is configured', () => {
    expect(parseConfig(readFileSync(demoPath, 'utf8')).quotas).toEqual({ defaultName: 'default' });
  });

  it('refuses a misspelt key inside the default quota, naming it', () => {
    const problems = problemsOf((c) => (c.quotas = { default: { hard: { gpu: 2 }, budgets: { gpuHour: 10 } } }));
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^quotas\.default\.hard: unknown key "gpu"/),
      expect.stringMatching(/^quotas\.default\.budgets: unknown key "gpuHour"/),
    ]));
    expect(problems).toHaveLength(2);
  });

  it('refuses a default quota with a negative limit or an unknown policy, naming the field', () => {
    expect(problemsOf((c) => (c.quotas = { default: { hard: { sessions: -1 } } })).join('\n')).toMatch(/quotas\.default\.hard\.sessions/);
    expect(problemsOf((c) => (c.quotas = { default: { budgets: { onExhausted: 'Kill' } } })).join('\n')).toMatch(/quotas\.default\.budgets\.onExhausted: .*Warn, Stop/);
  });

  it('reports broken YAML', () => {
    expect(() => parseConfig('profiles: [')).toThrow(/not valid YAML/);
  });
});

describe('ConfigHolder', () => {
  it('swaps in a valid edit and keeps the last good one on an invalid edit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'panalysis-config-'));
    const file = join(dir, 'operator.yaml');
    writeFileSync(file, readFileSync(demoPath));
    const logs: string[] = [];
    const holder = new ConfigHolder(file, (m) => logs.push(m));
    const seen: string[] = [];
    holder.onChange((c) => seen.push(c.profiles[0]!.image));

    const edited = demo();
    edited.profiles[0].image = 'quay.io/jupyter/scipy-notebook:2026-01-01';
    writeFileSync(file, stringify(edited));
    expect(holder.reload()).toBe(true);
    expect(holder.current().profiles[0]!.image).toBe('quay.io/jupyter/scipy-notebook:2026-01-01');

    edited.profiles[0].gpuFlavours = ['nope'];
    writeFileSync(file, stringify(edited));
    expect(holder.reload()).toBe(false);
    expect(holder.current().profiles[0]!.gpuFlavours).toEqual(['a100', 'a100-1g']);
    expect(logs.at(-1)).toMatch(/Rejected configuration change/);
    expect(seen).toEqual(['quay.io/jupyter/scipy-notebook:2026-01-01']);
  });
});

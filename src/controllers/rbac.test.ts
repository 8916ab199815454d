// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { OWNED_RESOURCES } from './analysis-session/resources.ts';
import { apiserverEndpointRules, leaderElectionRules, NAMESPACE_SCOPED_PLURALS, operatorClusterRules, operatorNamespacedRules } from './rbac.ts';
import type { PolicyRule } from './rbac.ts';

const WRITES = ['create', 'patch', 'update', 'delete', 'deletecollection'];
const grants = (rules: PolicyRule[], resource: string) => rules.filter((r) => r.resources.includes(resource)).flatMap((r) => r.verbs);
const all = () => [...operatorClusterRules(), ...operatorNamespacedRules(), ...leaderElectionRules, ...apiserverEndpointRules];

describe('operator RBAC', () => {
  it('grants nothing on Secrets cluster-wide (they are watched per proposal namespace)', () => {
    expect(grants(operatorClusterRules(), 'secrets')).toEqual([]);
    for (const plural of NAMESPACE_SCOPED_PLURALS) expect(grants(operatorClusterRules(), plural)).toEqual([]);
  });

  it('writes the children of sessions only through the per-namespace role', () => {
    for (const r of OWNED_RESOURCES) {
      expect(grants(operatorClusterRules(), r.plural).filter((v) => WRITES.includes(v)), r.plural).toEqual([]);
      expect(grants(operatorNamespacedRules(), r.plural), r.plural).toEqual(expect.arrayContaining(['create', 'patch', 'delete']));
    }
  });

  it('has no wildcard and no escalating verb, and says why each rule exists', () => {
    for (const rule of all()) {
      expect([...rule.apiGroups, ...rule.resources, ...rule.verbs]).not.toContain('*');
      expect(rule.verbs.filter((v) => ['bind', 'escalate', 'impersonate'].includes(v))).toEqual([]);
      expect(rule.why, JSON.stringify(rule)).toMatch(/\w+: /);
    }
  });

  it('creates and deletes quotas but never changes one, and writes the ledger through the status only', () => {
    expect(grants(operatorClusterRules(), 'resourcequotas')).toEqual(['get', 'list', 'watch', 'create', 'delete']);
    expect(grants(operatorClusterRules(), 'resourcequotas/status')).toEqual(['get', 'update', 'patch']);
  });

  it('creates usage records but can neither change nor delete one', () => {
    expect(grants(operatorClusterRules(), 'usagerecords')).toEqual(['get', 'list', 'watch', 'create']);
    expect(grants(all(), 'usagerecords').filter((v) => ['update', 'patch', 'delete', 'deletecollection'].includes(v))).toEqual([]);
  });

  it('writes PersistentVolumes cluster-wide (the residual rule) but never updates them by PUT', () => {
    expect(grants(operatorClusterRules(), 'persistentvolumes')).toEqual(['get', 'list', 'watch', 'create', 'patch', 'delete']);
  });
});

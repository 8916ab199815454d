// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { GATEWAY_NAMESPACE_SCOPED_PLURALS, gatewayClusterRules, gatewayNamespacedRules } from './rbac.ts';
import type { PolicyRule } from '../controllers/rbac.ts';

const grants = (rules: readonly PolicyRule[], resource: string) => rules.filter((r) => r.resources.includes(resource)).flatMap((r) => r.verbs);
const all = () => [...gatewayClusterRules, ...gatewayNamespacedRules];

describe('gateway RBAC', () => {
  it('only reads, and patches sessions (the activity annotation) and nothing else', () => {
    for (const rule of all()) {
      const want = rule.resources.includes('analysissessions') ? ['get', 'list', 'watch', 'patch'] : ['get', 'list', 'watch'];
      expect(rule.verbs, JSON.stringify(rule)).toEqual(want);
    }
  });

  it('grants nothing on Secrets cluster-wide (they are watched per proposal namespace)', () => {
    expect(grants(gatewayClusterRules, 'secrets')).toEqual([]);
    for (const plural of GATEWAY_NAMESPACE_SCOPED_PLURALS) {
      expect(grants(gatewayClusterRules, plural)).toEqual([]);
      expect(grants(gatewayNamespacedRules, plural)).toEqual(['get', 'list', 'watch']);
    }
  });

  it('reads what the gateway watches: sessions, pods and namespaces cluster-wide', () => {
    expect(gatewayClusterRules.flatMap((r) => r.resources).sort()).toEqual(['analysissessions', 'namespaces', 'pods']);
    expect(gatewayNamespacedRules.flatMap((r) => r.resources)).toEqual(['secrets']);
  });

  it('has no wildcard and no subresource, and says why each rule exists', () => {
    for (const rule of all()) {
      expect([...rule.apiGroups, ...rule.resources, ...rule.verbs]).not.toContain('*');
      expect(rule.resources.filter((r) => r.includes('/'))).toEqual([]);
      expect(rule.why, JSON.stringify(rule)).toMatch(/^Gateway: /);
    }
  });
});

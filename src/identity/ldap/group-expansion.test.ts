// SPDX-License-Identifier: Apache-2.0
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dnKey, expandMembers, expandMemberships } from './group-expansion.ts';
import type { MemberEntry, NestedGroup } from './group-expansion.ts';

/** An in-memory directory: group DN → member DNs; DNs starting with `uid=` are users. */
type Graph = Record<string, string[]>;

function group(graph: Graph, dn: string): NestedGroup {
  return { dn, memberUids: [], memberDns: graph[dn] ?? [] };
}

function parentsIn(graph: Graph, calls: string[][] = []) {
  return async (frontier: NestedGroup[]): Promise<NestedGroup[]> => {
    calls.push(frontier.map((g) => g.dn));
    const keys = new Set(frontier.map((g) => dnKey(g.dn)));
    return Object.keys(graph).filter((dn) => graph[dn]!.some((m) => keys.has(dnKey(m)))).map((dn) => group(graph, dn));
  };
}

function resolverIn(graph: Graph, calls: string[][] = []) {
  return async (dns: string[]): Promise<MemberEntry<NestedGroup>[]> => {
    calls.push(dns);
    return dns.flatMap((dn): MemberEntry<NestedGroup>[] => {
      if (dn.startsWith('uid=')) return [{ kind: 'user', dn, name: dn.slice(4).split(',')[0]! }];
      return dn in graph ? [{ kind: 'group', group: group(graph, dn) }] : [];
    });
  };
}

const chain: Graph = { 'cn=g0': ['uid=frank'], 'cn=g1': ['cn=g0'], 'cn=g2': ['cn=g1'], 'cn=g3': ['cn=g2'], 'cn=g4': ['cn=g3'] };
const cycle: Graph = { 'cn=a': ['uid=grace', 'cn=b'], 'cn=b': ['cn=a'] };

describe('dnKey', () => {
  it('ignores case and blanks around separators', () => {
    expect(dnKey(' CN=Team , ou=Groups,dc=x ')).toBe(dnKey('cn=team,OU=groups,DC=x'));
  });
});

describe('expandMemberships (upwards)', () => {
  const depths: Record<string, { depth: number; want: string[] }> = {
    'depth 0 keeps the direct groups': { depth: 0, want: ['cn=g0'] },
    'depth 1 adds the parents': { depth: 1, want: ['cn=g0', 'cn=g1'] },
    'depth 3 stops three levels up': { depth: 3, want: ['cn=g0', 'cn=g1', 'cn=g2', 'cn=g3'] },
  };
  for (const [name, c] of Object.entries(depths)) {
    it(name, async () => {
      const got = await expandMemberships([group(chain, 'cn=g0')], parentsIn(chain), c.depth);
      expect(got.map((g) => g.dn)).toEqual(c.want);
    });
  }

  it('ends on a cycle and visits each group once', async () => {
    const calls: string[][] = [];
    const got = await expandMemberships([group(cycle, 'cn=a')], parentsIn(cycle, calls), 10);
    expect(got.map((g) => g.dn)).toEqual(['cn=a', 'cn=b']);
    expect(calls).toEqual([['cn=a'], ['cn=b']]);
  });

  it('does not call the directory for depth 0 or without groups', async () => {
    const calls: string[][] = [];
    await expandMemberships([group(chain, 'cn=g0')], parentsIn(chain, calls), 0);
    await expandMemberships([], parentsIn(chain, calls), 5);
    expect(calls).toEqual([]);
  });

  it('terminates on any graph, calling the directory at most depth times with fresh groups only', async () => {
    const graphs = fc.dictionary(fc.constantFrom('cn=a', 'cn=b', 'cn=c', 'cn=d', 'cn=e'), fc.array(fc.constantFrom('cn=a', 'cn=b', 'cn=c', 'cn=d', 'cn=e', 'uid=u')));
    let expanded = 0;
    await fc.assert(fc.asyncProperty(graphs, fc.nat(6), async (graph, depth) => {
      const calls: string[][] = [];
      const direct = Object.keys(graph).filter((dn) => graph[dn]!.includes('uid=u')).map((dn) => group(graph, dn));
      const got = await expandMemberships(direct, parentsIn(graph, calls), depth);
      expect(calls.length).toBeLessThanOrEqual(depth);
      const flat = calls.flat();
      expect(new Set(flat).size).toBe(flat.length);
      expect(new Set(got.map((g) => g.dn)).size).toBe(got.length);
      if (calls.length > 0 && got.length > direct.length) expanded++;
    }), { numRuns: 200 });
    // Not vacuous: a fair share of the graphs put the user in nested groups that the expansion finds.
    expect(expanded).toBeGreaterThan(200 * 0.1);
  });
});

describe('expandMembers (downwards)', () => {
  it('collects memberUids, user DNs and nested members within the depth', async () => {
    const root: NestedGroup = { dn: 'cn=p1', memberUids: ['alice', 'bob'], memberDns: ['uid=carol', 'cn=g2'] };
    const got = await expandMembers(root, resolverIn(chain), 2);
    expect(got.users).toEqual(['alice', 'bob', 'carol']);
    expect(got.groups.map((g) => g.dn)).toEqual(['cn=p1', 'cn=g2', 'cn=g1']);
    const deeper = await expandMembers(root, resolverIn(chain), 3);
    expect(deeper.users).toEqual(['alice', 'bob', 'carol', 'frank']);
  });

  it('counts only the root members at depth 0', async () => {
    const got = await expandMembers(group(cycle, 'cn=a'), resolverIn(cycle), 0);
    expect(got).toEqual({ users: ['grace'], groups: [group(cycle, 'cn=a')] });
  });

  it('ends on a cycle, resolving each DN once', async () => {
    const calls: string[][] = [];
    const got = await expandMembers(group(cycle, 'cn=b'), resolverIn(cycle, calls), 10);
    expect(got.users).toEqual(['grace']);
    expect(calls).toEqual([['cn=a'], ['uid=grace']]);
  });

  it('skips DNs that name nothing', async () => {
    const got = await expandMembers({ dn: 'cn=x', memberUids: [], memberDns: ['cn=gone', 'uid=dave'] }, resolverIn({}), 3);
    expect(got.users).toEqual(['dave']);
  });
});

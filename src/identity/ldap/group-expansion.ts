// SPDX-License-Identifier: Apache-2.0
/**
 * Walks of the group graph, in both directions, with a depth bound and cycle safety. The
 * directory access is a callback, so the walks are pure given it and testable without LDAP.
 */

/** Anything with a distinguished name. */
export interface HasDn {
  dn: string;
}

/** A group as the downward walk sees it: its direct members. */
export interface NestedGroup extends HasDn {
  /** RFC 2307 `memberUid` values (usernames). */
  memberUids: readonly string[];
  /** `member` values (DNs of users or of other groups). */
  memberDns: readonly string[];
}

/** A member DN resolved by the directory; DNs that name nothing are left out. */
export type MemberEntry<G> = { kind: 'user'; dn: string; name: string } | { kind: 'group'; group: G };

/**
 * A comparison key for a DN: lower case, without blanks around `,`, `=` and `+`.
 * Caveat: an approximation of RFC 4514 matching, good for the DNs a server returns (which it
 * writes consistently); it is only used to notice groups already visited.
 */
export function dnKey(dn: string): string {
  return dn.trim().replace(/\s*([,=+])\s*/g, '$1').toLowerCase();
}

/**
 * Every group reached upwards from `direct` (the groups that name the user): the direct groups,
 * then their parents as returned by `parentsOf`, and so on for at most `depth` levels.
 *
 * Guarantees: each group appears once (keyed by {@link dnKey}), in order of discovery;
 * `parentsOf` is called at most `depth` times, each time only with groups not seen before, so a
 * cycle ends the walk; `depth` 0 returns the direct groups only.
 */
export async function expandMemberships<G extends HasDn>(direct: readonly G[], parentsOf: (groups: G[]) => Promise<G[]>, depth: number): Promise<G[]> {
  const seen = new Map<string, G>();
  let frontier = addNew(seen, direct);
  for (let level = 1; level <= depth && frontier.length > 0; level++) {
    frontier = addNew(seen, await parentsOf(frontier));
  }
  return [...seen.values()];
}

function addNew<G extends HasDn>(seen: Map<string, G>, groups: readonly G[]): G[] {
  const added: G[] = [];
  for (const g of groups) {
    const key = dnKey(g.dn);
    if (seen.has(key)) continue;
    seen.set(key, g);
    added.push(g);
  }
  return added;
}

/** The result of {@link expandMembers}. */
export interface ExpandedMembers<G> {
  /** Usernames, sorted and without duplicates. */
  users: string[];
  /** The root and every nested group whose members were counted. */
  groups: G[];
}

/**
 * The members of `root`, downwards: its `memberUids`, the users among its `memberDns`, and the
 * members of groups among its `memberDns`, nested at most `depth` levels (`depth` 0 counts the
 * root's own members only). `resolve` turns DNs into users or groups.
 *
 * Guarantees: each DN is resolved at most once; `resolve` is called at most `depth + 1`
 * times; a group met again (a cycle) is not expanded again.
 */
export async function expandMembers<G extends NestedGroup>(root: G, resolve: (dns: string[]) => Promise<MemberEntry<G>[]>, depth: number): Promise<ExpandedMembers<G>> {
  const seen = new Set([dnKey(root.dn)]);
  const users = new Set<string>();
  const groups: G[] = [root];
  let frontier: G[] = [root];
  for (let level = 0; frontier.length > 0; level++) {
    const dns: string[] = [];
    for (const g of frontier) {
      for (const uid of g.memberUids) users.add(uid);
      for (const dn of g.memberDns) {
        const key = dnKey(dn);
        if (seen.has(key)) continue;
        seen.add(key);
        dns.push(dn);
      }
    }
    const next: G[] = [];
    for (const entry of dns.length > 0 ? await resolve(dns) : []) {
      if (entry.kind === 'user') users.add(entry.name);
      else if (level < depth) next.push(entry.group);
    }
    groups.push(...next);
    frontier = next;
  }
  return { users: [...users].sort(), groups };
}

// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { inversions, proposalsFor, summariseP95 } from './quota-workload.ts';

const at = (ns: string, name: string, created: string, admitted: number) => ({ ns, name, created, admitted });

describe('quota workload Q1', () => {
  it('keeps 5 sessions per proposal, at most 20 proposals', () => {
    expect(proposalsFor(100)).toBe(20);
    expect(proposalsFor(1000)).toBe(20);
    expect(proposalsFor(40)).toBe(8);
    expect(proposalsFor(3)).toBe(1);
  });
  it('counts admissions against creation order, then name, within a namespace only', () => {
    const inOrder = [at('a', 's0', '2026-01-01T00:00:00Z', 1), at('a', 's1', '2026-01-01T00:00:00Z', 1), at('a', 's2', '2026-01-01T00:00:01Z', 5)];
    expect(inversions(inOrder)).toBe(0);
    const nameTie = [at('a', 's1', '2026-01-01T00:00:00Z', 1), at('a', 's0', '2026-01-01T00:00:00Z', 2)];
    expect(inversions(nameTie)).toBe(1);
    const otherNamespace = [at('a', 's0', '2026-01-01T00:00:00Z', 9), at('b', 's1', '2026-01-01T00:00:00Z', 1)];
    expect(inversions(otherNamespace)).toBe(0);
    const laterCreatedFirst = [at('a', 's0', '2026-01-01T00:00:05Z', 1), at('a', 's9', '2026-01-01T00:00:00Z', 3), at('a', 's5', '2026-01-01T00:00:01Z', 2)];
    expect(inversions(laterCreatedFirst)).toBe(3);
  });
  it('adds p95 to the summary', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(summariseP95(xs)).toMatchObject({ n: 100, p50: 50, p95: 95, p99: 99, max: 100 });
  });
});

// SPDX-License-Identifier: Apache-2.0
/** Summary statistics for benchmark samples (pure). */

export interface Summary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** The `q` quantile (0..1) of sorted `xs` by nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** p50/p90/p99/max/mean of `xs` (milliseconds in, milliseconds out, rounded). */
export function summarise(xs: readonly number[]): Summary {
  const sorted = [...xs].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x);
  return {
    n: sorted.length,
    p50: round(quantile(sorted, 0.5)),
    p90: round(quantile(sorted, 0.9)),
    p99: round(quantile(sorted, 0.99)),
    max: round(sorted.at(-1) ?? NaN),
    mean: round(sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)),
  };
}

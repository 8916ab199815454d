// SPDX-License-Identifier: Apache-2.0
/**
 * What one sessionbench run does, from its command line and environment (pure):
 * `--quick` or BENCH_QUICK=1 for a smoke run, BENCH_N, BENCH_SIZES (W1 bursts),
 * BENCH_RATES and BENCH_ARRIVAL_SECONDS (W2 steady arrivals); and the kwok nodes the run needs.
 */
import type { NodeLayout } from '../src/cluster/nodes.ts';

export interface BenchOptions {
  quick: boolean;
  /** Sessions in B0, B1 and Q1; the first W1 burst by default. */
  n: number;
  /** W1 burst sizes, run in turn; the first one is reported as `w1` too. */
  sizes: number[];
  /** W2 arrival rates, sessions per second. */
  rates: number[];
  /** How long W2 creates sessions at each rate. */
  arrivalSeconds: number;
  /** W4 idle time (the operator resyncs every 5 s). */
  idleSeconds: number;
  /** Base name of the result files in bench/results. */
  resultName: string;
}

/** Pods any node takes (kwok node capacity). */
const PODS_PER_NODE = 110;
/** Session pods Q1 runs at once at most: 20 proposals × 3. */
const Q1_PODS = 60;

function positiveList(text: string | undefined, name: string): number[] | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const list = text.split(',').map((s) => Number(s.trim()));
  if (list.some((x) => !Number.isFinite(x) || x <= 0)) throw new Error(`${name} must be a comma-separated list of positive numbers, got "${text}"`);
  return list;
}

function positive(text: string | undefined, name: string): number | undefined {
  return positiveList(text, name)?.[0];
}

/**
 * Options from `argv` (arguments after the script) and `env`.
 * @throws Error for a list or number that is not positive.
 */
export function benchOptions(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): BenchOptions {
  const quick = argv.includes('--quick') || env.BENCH_QUICK === '1';
  const n = Math.round(positive(env.BENCH_N, 'BENCH_N') ?? (quick ? 10 : 100));
  return {
    quick,
    n,
    sizes: (positiveList(env.BENCH_SIZES, 'BENCH_SIZES') ?? [n]).map(Math.round),
    rates: positiveList(env.BENCH_RATES, 'BENCH_RATES') ?? [2],
    arrivalSeconds: positive(env.BENCH_ARRIVAL_SECONDS, 'BENCH_ARRIVAL_SECONDS') ?? (quick ? 5 : 20),
    idleSeconds: quick ? 6 : 15,
    resultName: quick ? 'sessionbench-quick' : 'sessionbench',
  };
}

/**
 * kwok nodes for a run: every pod the run keeps at once fits with a fifth spare (B0, B1
 * and the largest burst stay, W2's sessions of one rate, Q1's), at least the default 3 CPU
 * nodes; about 100 nodes, some with GPUs, once a burst has 1,000 sessions or more.
 */
export function nodeLayoutFor(o: BenchOptions): NodeLayout {
  const largest = Math.max(...o.sizes);
  const arrivals = Math.max(...o.rates.map((r) => Math.ceil(r * o.arrivalSeconds)));
  const pods = 2 * o.n + largest + Math.max(arrivals, Q1_PODS);
  const cpuNodes = Math.max(3, Math.ceil((pods * 1.2) / PODS_PER_NODE));
  if (largest >= 1000) return { cpuNodes: Math.max(94, cpuNodes), gpuNodes: 4, migNodes: 2 };
  return { cpuNodes, gpuNodes: 2, migNodes: 1 };
}

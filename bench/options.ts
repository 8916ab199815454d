// SPDX-License-Identifier: Apache-2.0
/**
 * What one sessionbench run does, from its command line and environment (pure):
 * `--quick` or BENCH_QUICK=1 for a smoke run, BENCH_N, BENCH_SIZES (W1 bursts), BENCH_RATES and
 * BENCH_ARRIVAL_SECONDS (W2 steady arrivals), BENCH_STORED (W3 restart), BENCH_IDLE_SECONDS (W5),
 * BENCH_KUBESPAWNER=0 (skip the JupyterHub + KubeSpawner bursts), BENCH_RESULT_DIR (results in a folder of
 * their own); and the kwok nodes the run needs.
 */
import type { NodeLayout } from '../src/cluster/nodes.ts';

export interface BenchOptions {
  quick: boolean;
  /** Sessions in B0, B1 and Q1. */
  n: number;
  /** W1 burst sizes, run in turn; the first one is reported as `w1` too. */
  sizes: number[];
  /** W2 arrival rates, sessions per second. */
  rates: number[];
  /** How long W2 creates sessions at each rate. */
  arrivalSeconds: number;
  /**
   * The resync period of the operator that W3, W4 and W5 measure (the restarted one): 5 s, longer once more sessions
   * are kept (5 s per 2,000 of the most sessions a run keeps), so that the idle windows hold resync passes. The
   * bursts (W1), Q1 and W2 run on operators with the chart's period (values.yaml `operator.resyncSeconds`), as installed.
   */
  resyncSeconds: number;
  /** W4 idle time: two resync periods and 5 s, at least 15 s (6 s quick), so that every session is resynced at least once. */
  resyncIdleSeconds: number;
  /** W3: running sessions stored when the operator restarts. */
  stored: number;
  /** W3: how long the operator's writes are counted after it has reconciled every stored session. */
  afterRestartSeconds: number;
  /** W5: seconds without activity before one new session. */
  idleSeconds: number;
  /** Run the JupyterHub + KubeSpawner burst after each W1 burst. */
  kubespawner: boolean;
  /** Why the KubeSpawner bursts are skipped, when they are. */
  kubespawnerSkipped?: string;
  /** Base name of the combined result files in bench/results. */
  resultName: string;
  /** Folder of the per-workload results below bench/results ('' for the full run, 'quick' for a smoke run). */
  resultDir: string;
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

/** BENCH_RESULT_DIR (a folder name below bench/results for a run that must not replace the full run's page), else 'quick' or ''. */
function resultDir(text: string | undefined, quick: boolean): string {
  if (text === undefined || text === '') return quick ? 'quick' : '';
  if (!/^[a-z0-9][a-z0-9-]*$/.test(text)) throw new Error(`BENCH_RESULT_DIR must be a folder name of lower-case letters, digits and dashes, got "${text}"`);
  return text;
}

/**
 * Options from `argv` (arguments after the script) and `env`. Full defaults: N=100, bursts of
 * 100 and 1,000, 2, 5 and 10 sessions/s for 20 s, 1,000 sessions stored, 300 s idle; `--quick`:
 * N=10, one burst of N, 2/s for 5 s, 20 stored, 6 s idle.
 * @throws Error for a list or number that is not positive.
 */
export function benchOptions(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): BenchOptions {
  const quick = argv.includes('--quick') || env.BENCH_QUICK === '1';
  const n = Math.round(positive(env.BENCH_N, 'BENCH_N') ?? (quick ? 10 : 100));
  const sizes = (positiveList(env.BENCH_SIZES, 'BENCH_SIZES') ?? (quick ? [n] : [100, 1000])).map(Math.round);
  const kubespawner = env.BENCH_KUBESPAWNER !== '0';
  const stored = Math.max(Math.round(positive(env.BENCH_STORED, 'BENCH_STORED') ?? (quick ? 20 : 1000)), sizes.at(-1)!);
  // A resync re-queues every stored session: at 10,000 every 5 s it would be a constant load, not an idle operator.
  const resyncSeconds = 5 * Math.max(1, Math.ceil(Math.max(stored, ...sizes) / 2000));
  return {
    quick,
    n,
    sizes,
    rates: positiveList(env.BENCH_RATES, 'BENCH_RATES') ?? (quick ? [2] : [2, 5, 10]),
    arrivalSeconds: positive(env.BENCH_ARRIVAL_SECONDS, 'BENCH_ARRIVAL_SECONDS') ?? (quick ? 5 : 20),
    resyncSeconds,
    resyncIdleSeconds: Math.max(quick ? 6 : 15, 2 * resyncSeconds + 5),
    stored,
    afterRestartSeconds: quick ? 10 : 60,
    idleSeconds: positive(env.BENCH_IDLE_SECONDS, 'BENCH_IDLE_SECONDS') ?? (quick ? 6 : 300),
    kubespawner,
    ...(kubespawner ? {} : { kubespawnerSkipped: 'BENCH_KUBESPAWNER=0' }),
    resultName: quick ? 'sessionbench-quick' : 'sessionbench',
    resultDir: resultDir(env.BENCH_RESULT_DIR, quick),
  };
}

/**
 * kwok nodes for a run: every pod the run keeps at once fits with a fifth spare (B0 and B1
 * stay; a W1 burst and the hub's servers of the same size; then the W3 sessions stored with
 * W2's sessions of one rate or Q1's), at least the default 3 CPU nodes; about 100 nodes, some
 * with GPUs, once a burst has 1,000 sessions or more.
 */
export function nodeLayoutFor(o: BenchOptions): NodeLayout {
  const largest = Math.max(...o.sizes);
  const arrivals = Math.max(...o.rates.map((r) => Math.ceil(r * o.arrivalSeconds)));
  const pods = 2 * o.n + Math.max((o.kubespawner ? 2 : 1) * largest, o.stored + Math.max(arrivals, Q1_PODS) + 1);
  const cpuNodes = Math.max(3, Math.ceil((pods * 1.2) / PODS_PER_NODE));
  if (largest >= 1000 || o.stored >= 1000) return { cpuNodes: Math.max(94, cpuNodes), gpuNodes: 4, migNodes: 2 };
  return { cpuNodes, gpuNodes: 2, migNodes: 1 };
}

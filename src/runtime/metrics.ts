// SPDX-License-Identifier: Apache-2.0
/**
 * The operator's metrics registry: a thin facade over one prom-client `Registry` per instance (never the
 * process-wide default one, so several managers can live in one process).
 */
import { Counter as PromCounter, Gauge as PromGauge, Histogram as PromHistogram, Registry } from 'prom-client';

/** Label names and values of one series. */
export type Labels = Readonly<Record<string, string>>;

/** One sample of a collected metric. */
export interface Sample {
  readonly labels: Labels;
  readonly value: number;
}

/** A monotonically increasing count, per label set. */
export class Counter {
  readonly #metric: PromCounter;
  readonly #values = new Map<string, number>();

  constructor(metric: PromCounter) {
    this.#metric = metric;
  }

  /** Adds `value` (default 1) to the series of `labels`; throws on a label name not declared. */
  inc(labels: Labels = {}, value = 1): void {
    this.#metric.inc(labels, value);
    const key = labelKey(labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + value);
  }

  /** Current value of one series (0 when never incremented). */
  get(labels: Labels = {}): number {
    return this.#values.get(labelKey(labels)) ?? 0;
  }
}

/**
 * A Prometheus histogram per label set: cumulative `_bucket{le}` counts, `_sum` and `_count`.
 * Buckets are upper bounds; `+Inf` is implied.
 */
export class Histogram {
  readonly #metric: PromHistogram;
  readonly #counts = new Map<string, number>();

  constructor(metric: PromHistogram) {
    this.#metric = metric;
  }

  /** Records one observation of `value` in the series of `labels`; throws on a label name not declared. */
  observe(labels: Labels, value: number): void {
    this.#metric.observe(labels, value);
    const key = labelKey(labels);
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  /** Observations of one series so far. */
  count(labels: Labels = {}): number {
    return this.#counts.get(labelKey(labels)) ?? 0;
  }
}

interface Collected {
  readonly type: 'counter' | 'gauge';
  readonly labelNames: readonly string[];
  readonly sources: Array<() => readonly Sample[]>;
}

/**
 * Counters and histograms owned here, plus counters and gauges collected from callbacks at scrape time
 * (queue depth, client write counts). Label names are declared when a metric is created.
 *
 * Guarantees: `render()` produces the Prometheus text exposition format 0.0.4 (prom-client's), label values
 * escaped; asking for a counter or histogram name twice returns the first one; registering a collected name
 * twice adds the second callback's samples to the same family. A collected family whose callbacks return no
 * sample is rendered without series, even when it has no labels.
 * Caveats: a name registered with another kind, type or label names throws.
 */
export class MetricsRegistry {
  /** The prom-client registry behind this facade. */
  readonly registry = new Registry();
  readonly #counters = new Map<string, { counter: Counter; labelNames: readonly string[] }>();
  readonly #histograms = new Map<string, { histogram: Histogram; labelNames: readonly string[] }>();
  readonly #collected = new Map<string, Collected>();

  /** The counter `name` with `labelNames`, created on first use. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    const existing = this.#counters.get(name);
    if (existing) return same(name, existing.labelNames, labelNames, existing.counter);
    const counter = new Counter(new PromCounter({ name, help, labelNames, registers: [this.registry] }));
    this.#counters.set(name, { counter, labelNames });
    return counter;
  }

  /** The histogram `name` with `labelNames` and `buckets` (upper bounds), created on first use. */
  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]): Histogram {
    const existing = this.#histograms.get(name);
    if (existing) return same(name, existing.labelNames, labelNames, existing.histogram);
    const sorted = [...buckets].sort((a, b) => a - b);
    const histogram = new Histogram(new PromHistogram({ name, help, labelNames, buckets: sorted, registers: [this.registry] }));
    this.#histograms.set(name, { histogram, labelNames });
    return histogram;
  }

  /** A family with `labelNames` whose samples are read from `collect` at each scrape. */
  collect(name: string, help: string, type: 'counter' | 'gauge', labelNames: readonly string[], collect: () => readonly Sample[]): void {
    const existing = this.#collected.get(name);
    if (existing) {
      if (existing.type !== type) throw new Error(`Metric ${name} is already collected as a ${existing.type}`);
      same(name, existing.labelNames, labelNames, undefined);
      existing.sources.push(collect);
      return;
    }
    const family: Collected = { type, labelNames, sources: [collect] };
    this.#collected.set(name, family);
    const samples = (): Sample[] => family.sources.flatMap((source) => source());
    if (type === 'gauge') {
      new PromGauge({
        name, help, labelNames, registers: [this.registry],
        collect() {
          this.reset();
          if (labelNames.length === 0) this.remove();
          for (const s of samples()) this.set(s.labels, s.value);
        },
      });
    } else {
      new PromCounter({
        name, help, labelNames, registers: [this.registry],
        collect() {
          this.reset();
          if (labelNames.length === 0) this.remove();
          for (const s of samples()) this.inc(s.labels, s.value);
        },
      });
    }
  }

  /** The text exposition of every family; rejects when a collector throws. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}

function same<T>(name: string, had: readonly string[], asked: readonly string[], value: T): T {
  if (had.length !== asked.length || had.some((n, i) => n !== asked[i])) throw new Error(`Metric ${name} already has labels ${had.join(',')}`);
  return value;
}

function labelKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
}

// SPDX-License-Identifier: Apache-2.0

/** Label names and values of one series. */
export type Labels = Readonly<Record<string, string>>;

/** One sample of a collected metric. */
export interface Sample {
  readonly labels: Labels;
  readonly value: number;
}

/** A monotonically increasing count, per label set. */
export class Counter {
  readonly #series = new Map<string, { labels: Labels; value: number }>();

  /** Adds `value` (default 1) to the series of `labels`. */
  inc(labels: Labels = {}, value = 1): void {
    const key = labelKey(labels);
    const series = this.#series.get(key);
    if (series) series.value += value;
    else this.#series.set(key, { labels, value });
  }

  /** Current value of one series (0 when never incremented). */
  get(labels: Labels = {}): number {
    return this.#series.get(labelKey(labels))?.value ?? 0;
  }

  /** All series. */
  samples(): Sample[] {
    return [...this.#series.values()].map(({ labels, value }) => ({ labels, value }));
  }
}

/**
 * A Prometheus histogram per label set: cumulative `_bucket{le}` counts, `_sum` and `_count`.
 * Buckets are upper bounds in ascending order; `+Inf` is implied.
 */
export class Histogram {
  readonly #buckets: readonly number[];
  readonly #series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();

  constructor(buckets: readonly number[]) {
    this.#buckets = [...buckets].sort((a, b) => a - b);
  }

  /** Records one observation of `value` in the series of `labels`. */
  observe(labels: Labels, value: number): void {
    const key = labelKey(labels);
    let series = this.#series.get(key);
    if (!series) {
      series = { labels, counts: this.#buckets.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, series);
    }
    this.#buckets.forEach((le, i) => {
      if (value <= le) series.counts[i]! += 1;
    });
    series.sum += value;
    series.count += 1;
  }

  /** Observations of one series so far. */
  count(labels: Labels = {}): number {
    return this.#series.get(labelKey(labels))?.count ?? 0;
  }

  /** Samples in exposition order, with the suffix each belongs to. */
  samples(): Array<Sample & { suffix: '_bucket' | '_sum' | '_count' }> {
    const out: Array<Sample & { suffix: '_bucket' | '_sum' | '_count' }> = [];
    for (const { labels, counts, sum, count } of this.#series.values()) {
      this.#buckets.forEach((le, i) => out.push({ suffix: '_bucket', labels: { ...labels, le: String(le) }, value: counts[i]! }));
      out.push({ suffix: '_bucket', labels: { ...labels, le: '+Inf' }, value: count }, { suffix: '_sum', labels, value: sum }, { suffix: '_count', labels, value: count });
    }
    return out;
  }
}

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly collect: () => readonly Sample[];
}

/**
 * A minimal Prometheus registry: counters owned here, plus counters and gauges collected from callbacks at
 * scrape time (queue depth, client write counts).
 *
 * Guarantees: `render()` produces the Prometheus text exposition format 0.0.4, families in registration order,
 * label values escaped; registering a name twice returns the first registration's counter, or adds the
 * collector's samples to the same family.
 */
export class MetricsRegistry {
  readonly #families = new Map<string, Family[]>();
  readonly #counters = new Map<string, Counter>();
  readonly #histograms = new Map<string, Histogram>();

  /** The histogram `name` with `buckets`, created on first use. */
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    const existing = this.#histograms.get(name);
    if (existing) return existing;
    const histogram = new Histogram(buckets);
    this.#histograms.set(name, histogram);
    this.#add({ name, help, type: 'histogram', collect: () => histogram.samples() });
    return histogram;
  }

  /** The counter `name`, created on first use. */
  counter(name: string, help: string): Counter {
    const existing = this.#counters.get(name);
    if (existing) return existing;
    const counter = new Counter();
    this.#counters.set(name, counter);
    this.#add({ name, help, type: 'counter', collect: () => counter.samples() });
    return counter;
  }

  /** A family whose samples are read from `collect` at each scrape. */
  collect(name: string, help: string, type: 'counter' | 'gauge', collect: () => readonly Sample[]): void {
    this.#add({ name, help, type, collect });
  }

  /** The text exposition of every family. */
  render(): string {
    const lines: string[] = [];
    for (const [name, families] of this.#families) {
      const first = families[0];
      if (!first) continue;
      lines.push(`# HELP ${name} ${first.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${first.type}`);
      for (const family of families) {
        for (const sample of family.collect()) lines.push(`${name}${(sample as { suffix?: string }).suffix ?? ''}${formatLabels(sample.labels)} ${formatValue(sample.value)}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }

  #add(family: Family): void {
    const families = this.#families.get(family.name) ?? [];
    families.push(family);
    this.#families.set(family.name, families);
  }
}

function labelKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  const escape = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
  return `{${entries.map(([k, v]) => `${k}="${escape(v)}"`).join(',')}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

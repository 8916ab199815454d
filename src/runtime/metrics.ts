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

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
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
        for (const { labels, value } of family.collect()) lines.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
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

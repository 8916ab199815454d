// SPDX-License-Identifier: Apache-2.0
import { register } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { MetricsRegistry, type Sample } from './metrics.ts';

/** Sample lines of `text` (comments and blank lines dropped). */
const series = (text: string): string[] => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

describe('MetricsRegistry', () => {
  it('renders counters in the Prometheus text format, label values escaped, and reads them back', async () => {
    const metrics = new MetricsRegistry();
    const writes = metrics.counter('demo_writes_total', 'Writes, by verb.', ['verb']);
    writes.inc({ verb: 'apply' });
    writes.inc({ verb: 'apply' }, 2);
    writes.inc({ verb: 'say "hi"\\\n' });
    expect(metrics.counter('demo_writes_total', 'Writes, by verb.', ['verb'])).toBe(writes);
    expect(writes.get({ verb: 'apply' })).toBe(3);
    expect(writes.get({ verb: 'delete' })).toBe(0);
    const text = await metrics.render();
    expect(text).toContain('# HELP demo_writes_total Writes, by verb.\n# TYPE demo_writes_total counter\n');
    expect(series(text)).toEqual(['demo_writes_total{verb="apply"} 3', 'demo_writes_total{verb="say \\"hi\\"\\\\\\n"} 1']);
  });

  it('renders histograms with cumulative buckets, +Inf, sum and count per label set', async () => {
    const metrics = new MetricsRegistry();
    const h = metrics.histogram('demo_seconds', 'Durations.', ['kind'], [5, 1]);
    h.observe({ kind: 'a' }, 0.5);
    h.observe({ kind: 'a' }, 3);
    h.observe({ kind: 'a' }, 7);
    expect(h.count({ kind: 'a' })).toBe(3);
    expect(h.count({ kind: 'b' })).toBe(0);
    expect(series(await metrics.render())).toEqual([
      'demo_seconds_bucket{le="1",kind="a"} 1',
      'demo_seconds_bucket{le="5",kind="a"} 2',
      'demo_seconds_bucket{le="+Inf",kind="a"} 3',
      'demo_seconds_sum{kind="a"} 10.5',
      'demo_seconds_count{kind="a"} 3',
    ]);
  });

  it('reads collected families at each scrape: series come and go, callbacks of one name add up', async () => {
    const metrics = new MetricsRegistry();
    let depth: Sample[] = [{ labels: { name: 'a' }, value: 4 }];
    const replica: { leading?: boolean } = {};
    metrics.collect('demo_depth', 'Depth.', 'gauge', ['name'], () => depth);
    metrics.collect('demo_depth', 'Depth.', 'gauge', ['name'], () => [{ labels: { name: 'b' }, value: 1 }]);
    metrics.collect('demo_leader', 'Leading.', 'gauge', [], () => (replica.leading === undefined ? [] : [{ labels: {}, value: replica.leading ? 1 : 0 }]));
    metrics.collect('demo_sent_total', 'Sent.', 'counter', [], () => [{ labels: {}, value: 12 }]);
    expect(series(await metrics.render())).toEqual(['demo_depth{name="a"} 4', 'demo_depth{name="b"} 1', 'demo_sent_total 12']);
    depth = [];
    replica.leading = true;
    const text = await metrics.render();
    expect(series(text)).toEqual(['demo_depth{name="b"} 1', 'demo_leader 1', 'demo_sent_total 12']);
    expect(text).toContain('# TYPE demo_sent_total counter');
  });

  it('refuses labels not declared, and a name asked for again with other labels or type', async () => {
    const metrics = new MetricsRegistry();
    expect(() => metrics.counter('demo_total', 'Demo.', ['verb']).inc({ kind: 'x' })).toThrow(/not included/);
    expect(() => metrics.counter('demo_total', 'Demo.', ['kind'])).toThrow(/already has labels/);
    metrics.collect('demo_level', 'Level.', 'gauge', [], () => []);
    expect(() => metrics.collect('demo_level', 'Level.', 'counter', [], () => [])).toThrow(/gauge/);
    metrics.collect('demo_broken', 'Broken.', 'gauge', [], () => [{ labels: { extra: 'x' }, value: 1 }]);
    await expect(metrics.render()).rejects.toThrow(/not included/);
  });

  it('keeps each registry to itself, never the process-wide default one', async () => {
    const one = new MetricsRegistry();
    const two = new MetricsRegistry();
    one.counter('demo_shared_total', 'Shared.').inc();
    two.counter('demo_shared_total', 'Shared.');
    expect(series(await one.render())).toEqual(['demo_shared_total 1']);
    expect(series(await two.render())).toEqual(['demo_shared_total 0']);
    expect(await register.metrics()).not.toContain('demo_shared_total');
  });
});

// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { EventRecorder, eventSinkFromKube, type EventInput, type EventSink, type KubeEvent } from './events.ts';
import type { JsonPatchOp } from './kube.ts';
import { KubeApiError } from './kube-http.ts';
import { FakeClock } from './testing/fake-clock.ts';
import { RecordingTransport } from './testing/recording-transport.ts';
import { createKubeClient } from './kube.ts';

class MemorySink implements EventSink {
  readonly created: KubeEvent[] = [];
  readonly patches: Array<{ name: string; ops: readonly JsonPatchOp[] }> = [];
  failPatchWith: Error | undefined;
  async create(event: KubeEvent): Promise<void> {
    this.created.push(event);
  }
  async patch(_namespace: string, name: string, ops: readonly JsonPatchOp[]): Promise<void> {
    if (this.failPatchWith) throw this.failPatchWith;
    this.patches.push({ name, ops });
  }
}

const session = { apiVersion: 'panalysis.example/v1alpha1', kind: 'AnalysisSession', metadata: { name: 's1', namespace: 'ns', uid: 'u1', resourceVersion: '7' } };
const failed: EventInput = { regarding: session, type: 'Warning', reason: 'QuotaExceeded', action: 'Admit', note: 'GPU quota of proposal 42 exhausted' };

function setup(overrides: { burstPerObject?: number } = {}) {
  const clock = new FakeClock();
  const sink = new MemorySink();
  const recorder = new EventRecorder({ sink, clock, reportingController: 'panalysis.example/sessions', reportingInstance: 'op-0', ...overrides });
  return { clock, sink, recorder };
}

describe('EventRecorder', () => {
  it('creates an events.k8s.io/v1 Event regarding the object', async () => {
    const { sink, recorder } = setup();
    recorder.record(failed);
    await recorder.flush();
    expect(sink.created).toEqual([
      {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name: expect.stringMatching(/^s1\.[0-9a-f]+$/), namespace: 'ns' },
        eventTime: '2026-01-01T00:00:00.000000Z',
        reportingController: 'panalysis.example/sessions',
        reportingInstance: 'op-0',
        action: 'Admit',
        reason: 'QuotaExceeded',
        note: 'GPU quota of proposal 42 exhausted',
        type: 'Warning',
        regarding: { apiVersion: session.apiVersion, kind: session.kind, name: 's1', namespace: 'ns', uid: 'u1', resourceVersion: '7' },
      },
    ]);
  });

  it('aggregates a hot loop into one Event with a series, written at most once per flush interval', async () => {
    const { clock, sink, recorder } = setup();
    for (let i = 0; i < 1_000; i++) {
      recorder.record({ ...failed, regarding: { ...session, metadata: { ...session.metadata, resourceVersion: String(i) } } });
      await clock.advance(10);
    }
    await recorder.flush();
    expect(sink.created).toHaveLength(1);
    expect(sink.patches.length).toBeLessThanOrEqual(3);
    expect(sink.patches.at(-1)?.ops).toEqual([
      { op: 'add', path: '/series', value: { count: 1_000, lastObservedTime: '2026-01-01T00:00:09.990000Z' } },
    ]);
    expect(recorder.stats).toMatchObject({ created: 1, aggregated: 999 });
  });

  it('starts a new Event once the series has been quiet for its TTL', async () => {
    const { clock, sink, recorder } = setup();
    recorder.record(failed);
    await clock.advance(7 * 60_000);
    recorder.record(failed);
    await recorder.flush();
    expect(sink.created).toHaveLength(2);
    expect(sink.created[0]?.metadata?.name).not.toBe(sink.created[1]?.metadata?.name);
  });

  it('keeps different reasons apart and rate-limits new Events per object', async () => {
    const { sink, recorder } = setup({ burstPerObject: 3 });
    for (let i = 0; i < 10; i++) recorder.record({ ...failed, reason: `Reason${i}` });
    await recorder.flush();
    expect(sink.created.map((e) => e.reason)).toEqual(['Reason0', 'Reason1', 'Reason2']);
    expect(recorder.stats.dropped).toBe(7);
  });

  it('recreates the Event when the server has expired it', async () => {
    const { sink, recorder } = setup();
    recorder.record(failed);
    sink.failPatchWith = new KubeApiError(404, 'NotFound', 'gone');
    recorder.record(failed);
    await recorder.flush();
    sink.failPatchWith = undefined;
    recorder.record(failed);
    await recorder.flush();
    expect(sink.created).toHaveLength(2);
  });

  it('stops its timer after a final flush', async () => {
    const { clock, recorder } = setup();
    recorder.record(failed);
    expect(clock.pending()).toBe(1);
    await recorder.stop();
    expect(clock.pending()).toBe(0);
  });

  it('writes through a client with real paths', async () => {
    const transport = new RecordingTransport();
    const recorder = new EventRecorder({ sink: eventSinkFromKube(createKubeClient({ transport })), clock: new FakeClock(), reportingController: 'c', reportingInstance: 'i' });
    recorder.record(failed);
    recorder.record(failed);
    await recorder.stop();
    expect(transport.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /apis/events.k8s.io/v1/namespaces/ns/events',
      expect.stringMatching(/^PATCH \/apis\/events\.k8s\.io\/v1\/namespaces\/ns\/events\/s1\.[0-9a-f]+$/),
    ]);
  });
});

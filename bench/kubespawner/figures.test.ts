// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { summariseHubRun } from './figures.ts';

const costs = { hubCpuSeconds: 1.234, hubPeakRssMb: 150, proxyCpuSeconds: 0.5 };
const times = (sent: Array<[string, number]>, pod: Array<[string, number]>, ready: Array<[string, number]>) => ({
  sent: new Map(sent), podCreated: new Map(pod), podReady: new Map(pod), serverReady: new Map(ready),
});

describe('summariseHubRun', () => {
  it('measures each stage from the user request and the run from the first request to the last ready server', () => {
    const t = times([['u0', 1000], ['u1', 1500]], [['u0', 1200], ['u1', 1600]], [['u0', 2000], ['u1', 3000]]);
    const run = summariseHubRun(2, false, t, costs);
    expect(run).toMatchObject({ size: 2, podCreated: [200, 100], serverReady: [1000, 1500], seconds: 2, serversPerSecond: 1, hubCpuSeconds: 1.23 });
    expect(run.failed).toBeUndefined();
  });

  it('reports what a failed run reached, leaving out users that never got to a stage', () => {
    const t = times([['u0', 0], ['u1', 0], ['u2', 0]], [['u0', 100], ['u1', 200]], [['u0', 500]]);
    const run = summariseHubRun(3, true, t, costs, 'HTTP 429');
    expect(run.podCreated).toEqual([100, 200]);
    expect(run.serverReady).toEqual([500]);
    expect(run.failed).toEqual({ reason: 'HTTP 429', ready: 1 });
  });

  it('has zero throughput when no server was ready', () => {
    const run = summariseHubRun(1, false, times([['u0', 0]], [], []), costs, 'hub exited');
    expect(run).toMatchObject({ seconds: 0, serversPerSecond: 0, serverReady: [], failed: { ready: 0 } });
  });
});

// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { activityAt, parseJupyterActivity } from './jupyter-activity.ts';

const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);

describe("JupyterLab's account of its activity", () => {
  it('takes last_activity while no kernel is busy, and now while one is', () => {
    const status = { started: '2026-12-01T08:00:00.000000Z', last_activity: '2026-12-01T10:15:30.123456Z', kernels: 2, connections: 1 };
    const idle = parseJupyterActivity(status, [{ id: 'a', execution_state: 'idle' }, { id: 'b', execution_state: 'starting' }]);
    expect(idle).toEqual({ lastActivity: Date.parse('2026-12-01T10:15:30.123Z'), kernels: 2, busyKernels: 0 });
    expect(activityAt(idle, NOW)).toBe(Date.parse('2026-12-01T10:15:30.123Z'));
    const busy = parseJupyterActivity(status, [{ id: 'a', execution_state: 'busy' }, { id: 'b', execution_state: 'idle' }]);
    expect(busy.busyKernels).toBe(1);
    expect(activityAt(busy, NOW)).toBe(NOW);
  });

  it('gives no activity for an answer that is not JupyterLab\'s', () => {
    for (const [status, kernels] of [[null, null], ['<html>', {}], [{ last_activity: 'yesterday' }, []], [{ last_activity: 7 }, [null, 3]]] as const) {
      const a = parseJupyterActivity(status, kernels);
      expect(a.busyKernels).toBe(0);
      expect(activityAt(a, NOW)).toBeUndefined();
    }
  });
});

// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { hubSettings } from './settings.ts';

const input = {
  namespace: 'hub-1', withStorage: true, publicPort: 1, hubPort: 2, proxyApiPort: 3, readinessPort: 4,
  apiToken: 'a', proxyToken: 'p', proxyCommand: ['node', 'chp'], dir: '/d',
};

describe('hubSettings', () => {
  it('keeps the caller choices and adds the guarantees of a session and kwok image', () => {
    const s = hubSettings(input);
    expect(s).toMatchObject({ ...input, image: 'registry.invalid/x', cpuGuarantee: 0.1, memGuarantee: '256M', storageCapacity: '10Gi' });
    expect(s.startTimeoutSeconds).toBeGreaterThanOrEqual(600);
  });

  it('leaves the spawn limit to JupyterHub unless one is given', () => {
    expect(JSON.parse(JSON.stringify(hubSettings(input)))).not.toHaveProperty('concurrentSpawnLimit');
    expect(hubSettings({ ...input, concurrentSpawnLimit: 0 }).concurrentSpawnLimit).toBe(0);
  });
});

// SPDX-License-Identifier: Apache-2.0
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePorts } from './wait.ts';

describe('freePorts', () => {
  it('gives distinct ports that can each be listened on', async () => {
    for (let round = 0; round < 20; round++) {
      const ports = await freePorts(8);
      expect(new Set(ports).size).toBe(8);
      const servers = await Promise.all(ports.map((port) => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
        const s = createServer();
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => resolve(s));
      })));
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    }
  });
});

// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { parseEvent } from './hub-api.ts';

describe('parseEvent', () => {
  it('reads the JSON of a progress event', () => {
    expect(parseEvent('data: {"progress": 100, "ready": true, "message": "Server ready"}')).toMatchObject({ ready: true });
    expect(parseEvent('id: 3\ndata: {"failed": true, "message": "Spawn failed: timeout"}')).toEqual({ failed: true, message: 'Spawn failed: timeout' });
  });

  it('ignores keep-alive comments and data that is not JSON', () => {
    expect(parseEvent(': keepalive')).toBeUndefined();
    expect(parseEvent('data: not json')).toBeUndefined();
  });
});

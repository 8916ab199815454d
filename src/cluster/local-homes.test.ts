// SPDX-License-Identifier: Apache-2.0
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCAL_HOME_MODE, openHomes, watchLocalHomes } from './local-homes.ts';

const roots: string[] = [];
const newRoot = () => {
  const r = mkdtempSync(join(tmpdir(), 'homes-'));
  roots.push(r);
  return r;
};
const mode = (p: string) => statSync(p).mode & 0o7777;
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

describe.skipIf(process.getuid?.() !== 0)('local home volumes (as root, like the provisioner)', () => {
  it('opens the directories the provisioner made (root, 0750) and leaves every other one alone', () => {
    const root = newRoot();
    mkdirSync(join(root, 'made'), { mode: 0o750 });
    chmodSync(join(root, 'made'), 0o750);
    mkdirSync(join(root, 'private'), { mode: 0o700 });
    chmodSync(join(root, 'private'), 0o700);
    expect(openHomes(root)).toBe(1);
    expect(mode(join(root, 'made'))).toBe(LOCAL_HOME_MODE);
    expect(mode(join(root, 'private'))).toBe(0o700);
  });

  it('opens a directory made after the watch started', async () => {
    const root = newRoot();
    const w = watchLocalHomes(root, 50);
    try {
      mkdirSync(join(root, 'new'));
      chmodSync(join(root, 'new'), 0o750);
      await expect.poll(() => mode(join(root, 'new')), { timeout: 5000 }).toBe(LOCAL_HOME_MODE);
    } finally {
      w.stop();
    }
  });
});

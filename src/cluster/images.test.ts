// SPDX-License-Identifier: Apache-2.0
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './binaries.ts';
import { ensureImages, imageArchive, imageKey, LOCAL_IMAGES, PAUSE_IMAGE } from './images.ts';

const roots: string[] = [];
/** A copy of the build script and the recipes, to change without touching the repository. */
function copyRepo(): string {
  const r = mkdtempSync(join(tmpdir(), 'images-'));
  roots.push(r);
  mkdirSync(join(r, 'scripts'));
  cpSync(join(REPO_ROOT, 'scripts', 'build-images.sh'), join(r, 'scripts', 'build-images.sh'));
  cpSync(join(REPO_ROOT, 'images'), join(r, 'images'), { recursive: true });
  return r;
}
const scriptKey = (root: string, name: string) =>
  execFileSync('bash', [join(root, 'scripts', 'build-images.sh'), '--key', name], { encoding: 'utf8' }).trim();
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

describe('local image recipes', () => {
  it.each(Object.entries(LOCAL_IMAGES))('%s: the constant is the recipe REF', (name, ref) => {
    const env = readFileSync(join(REPO_ROOT, 'images', name, 'image.env'), 'utf8');
    expect(env).toMatch(new RegExp(`^REF=${ref.replace(/[.]/g, '\\.')}$`, 'm'));
  });

  it('pauses sandboxes with the local pause image', () => {
    expect(PAUSE_IMAGE).toBe('localhost/panalysis/pause:3.10');
  });
});

describe('image cache key', () => {
  it.each(Object.keys(LOCAL_IMAGES))('%s: TypeScript and build-images.sh --key agree', (name) => {
    expect(imageKey(name)).toMatch(/^[0-9a-f]{16}$/);
    expect(imageKey(name)).toBe(scriptKey(REPO_ROOT, name));
  });

  it('changes with a package list, a new recipe file or the script, and with nothing else', () => {
    const r = copyRepo();
    const before = imageKey('websockify', r);
    expect(imageKey('websockify', r)).toBe(before);
    writeFileSync(join(r, 'images', 'jupyterlab', 'requirements.txt'), 'numpy==1\n');
    expect(imageKey('websockify', r)).toBe(before);
    writeFileSync(join(r, 'images', 'websockify', 'packages.txt'), 'websockify\nprocps\n');
    const afterPackages = imageKey('websockify', r);
    expect(afterPackages).not.toBe(before);
    writeFileSync(join(r, 'images', 'websockify', 'extra.conf'), 'x\n');
    const afterFile = imageKey('websockify', r);
    expect(afterFile).not.toBe(afterPackages);
    writeFileSync(join(r, 'scripts', 'build-images.sh'), `${readFileSync(join(r, 'scripts', 'build-images.sh'), 'utf8')}\n# changed\n`);
    expect(imageKey('websockify', r)).not.toBe(afterFile);
    expect(imageKey('websockify', r)).toBe(scriptKey(r, 'websockify'));
  });

  it('names the archive <name>-<key>.oci.tar under the cache', () => {
    expect(imageArchive('pause')).toMatch(new RegExp(`/images/pause-${imageKey('pause')}\\.oci\\.tar$`));
  });

  it('refuses a recipe that does not exist', async () => {
    expect(() => imageKey('nope')).toThrow(/no image recipe images\/nope/);
    await expect(ensureImages(['nope'])).rejects.toThrow(/unknown image nope; known: pause, jupyterlab/);
  });
});

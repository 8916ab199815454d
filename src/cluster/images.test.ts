// SPDX-License-Identifier: Apache-2.0
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
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

  it('keys panalysis itself by its first layer\'s inputs and by every source file, as the script does', () => {
    const r = copyRepo();
    const write = (path: string, text: string) => {
      mkdirSync(join(r, path, '..'), { recursive: true });
      writeFileSync(join(r, path), text);
    };
    for (const f of ['package.json', 'package-lock.json', 'scripts/use-node.sh', 'scripts/versions.env', 'crds/a.yaml', 'src/cli/main.ts', 'src/b/c.ts']) write(f, `${f}\n`);
    const first = imageKey('operator', r);
    expect(first).toBe(scriptKey(r, 'operator'));
    write('src/b/c.ts', 'changed\n');
    const afterSource = imageKey('operator', r);
    expect(afterSource).not.toBe(first);
    write('src/b/d.ts', 'new\n');
    expect(imageKey('operator', r)).not.toBe(afterSource);
    write('package-lock.json', '{}\n');
    expect(imageKey('operator', r)).toBe(scriptKey(r, 'operator'));
    write('README.md', 'not an input\n');
    expect(imageKey('operator', r)).toBe(scriptKey(r, 'operator'));
  });

  it('builds panalysis from what the Dockerfile copies', () => {
    const env = readFileSync(join(REPO_ROOT, 'images', 'operator', 'image.env'), 'utf8');
    const list = (name: string) => (new RegExp(`^${name}='([^']*)'`, 'm').exec(env)?.[1] ?? '').split(' ').sort();
    const copies = [...readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8').matchAll(/^COPY (.+) \S+$/gm)].flatMap((m) => m[1]!.split(' '));
    expect([...list('APP'), ...list('INPUTS').filter((f) => f !== 'scripts/use-node.sh')].sort()).toEqual(copies.sort());
    expect(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8')).toContain(`node:${/^panalysis_node_version=(.+)$/m.exec(readFileSync(join(REPO_ROOT, 'scripts', 'use-node.sh'), 'utf8'))![1]}-`);
  });

  it('names the archive <name>-<key>.oci.tar under the cache', () => {
    expect(imageArchive('pause')).toMatch(new RegExp(`/images/pause-${imageKey('pause')}\\.oci\\.tar$`));
  });

  it('refuses a recipe that does not exist', async () => {
    expect(() => imageKey('nope')).toThrow(/no image recipe images\/nope/);
    await expect(ensureImages(['nope'])).rejects.toThrow(/unknown image nope; known: pause, jupyterlab/);
  });
});

const canBuild = process.getuid?.() === 0 && spawnSync('go', ['version']).status === 0;
describe.skipIf(!canBuild)('build-images.sh packing (as root, with Go)', () => {
  const build = (root: string, cache: string, name: string) =>
    spawnSync('bash', [join(root, 'scripts', 'build-images.sh'), name], { encoding: 'utf8', env: { ...process.env, PANALYSIS_CACHE: cache } });

  it('writes an OCI archive whose digests match its blobs, with the reference and root-owned files', () => {
    const r = copyRepo();
    const cache = join(r, 'cache');
    const out = build(r, cache, 'pause');
    expect(out.status, out.stderr).toBe(0);
    const archive = join(cache, 'images', `pause-${imageKey('pause', r)}.oci.tar`);
    const x = join(r, 'x');
    mkdirSync(x);
    execFileSync('tar', ['-C', x, '-xf', archive]);
    const blob = (d: string) => readFileSync(join(x, 'blobs', 'sha256', d.replace('sha256:', '')));
    const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
    expect(JSON.parse(readFileSync(join(x, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(readFileSync(join(x, 'index.json'), 'utf8'));
    expect(index.manifests[0].annotations['io.containerd.image.name']).toBe(PAUSE_IMAGE);
    const manifestBytes = blob(index.manifests[0].digest);
    expect(sha(manifestBytes)).toBe(index.manifests[0].digest);
    const manifest = JSON.parse(manifestBytes.toString());
    const config = JSON.parse(blob(manifest.config.digest).toString());
    expect(config.config.Entrypoint).toEqual(['/pause']);
    const layer = blob(manifest.layers[0].digest);
    expect(sha(layer)).toBe(manifest.layers[0].digest);
    expect(layer.length).toBe(manifest.layers[0].size);
    expect(sha(gunzipSync(layer))).toBe(config.rootfs.diff_ids[0]);
    const listing = execFileSync('tar', ['-tvzf', join(x, 'blobs', 'sha256', manifest.layers[0].digest.slice(7))], { encoding: 'utf8' });
    expect(listing).toMatch(/^-rwxr-xr-x 0\/0 .* \.\/pause$/m);
    expect(readdirSync(join(cache, 'images'))).toEqual([`pause-${imageKey('pause', r)}.oci.tar`]);
  });

  it('names the missing piece in one line when a start-up check fails, and leaves no archive', () => {
    const r = copyRepo();
    const dir = join(r, 'images', 'broken');
    mkdirSync(dir);
    writeFileSync(join(dir, 'image.env'), "KIND=go\nREF=localhost/panalysis/broken:1\nCONFIG='{\"Entrypoint\":[\"/broken\"]}'\n");
    writeFileSync(join(dir, 'go.mod'), 'module panalysis.invalid/broken\n\ngo 1.22\n');
    writeFileSync(join(dir, 'main.go'), 'package main\n\nimport "os"\n\nfunc main() { os.Exit(3) }\n');
    const out = build(r, join(r, 'cache'), 'broken');
    expect(out.status).not.toBe(0);
    expect(out.stderr.trim().split('\n').at(-1)).toBe('panalysis: image broken: start-up check failed: /broken does not run');
    expect(readdirSync(join(r, 'cache', 'images'))).toEqual([]);
  });
});

// SPDX-License-Identifier: Apache-2.0
/**
 * Session images without a registry. scripts/build-images.sh builds each recipe of
 * images/<name>/ (a static Go program, or Debian bookworm plus PyPI) into a single-layer
 * OCI archive in the cache; the real node imports them with `ctr -n k8s.io images import`.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cacheDir, REPO_ROOT } from './binaries.ts';

/** Image references by recipe name; each equals REF in images/<name>/image.env (a unit test checks). */
export const LOCAL_IMAGES = {
  pause: 'localhost/panalysis/pause:3.10',
  jupyterlab: 'localhost/panalysis/jupyterlab:4.6.6',
  desktop: 'localhost/panalysis/desktop:1.12.0',
  websockify: 'localhost/panalysis/websockify:0.10.0',
} as const;

/** Name of a local image recipe. */
export type LocalImageName = keyof typeof LOCAL_IMAGES;

/** The sandbox (pause) image of the real node: give it to containerd's CRI `sandbox_image`. */
export const PAUSE_IMAGE = LOCAL_IMAGES.pause;

/** A built image: its recipe name, reference, and the OCI archive to import. */
export interface LocalImage {
  name: LocalImageName;
  ref: string;
  archive: string;
}

const SCRIPT = join(REPO_ROOT, 'scripts', 'build-images.sh');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return filesUnder(p);
    return e.isFile() ? [p] : [];
  });
}

/**
 * The cache key of an image: the first 16 hex digits of sha256 over the build script and
 * every file of the recipe folder, each as "<repo-relative path>\n" then its bytes, paths in
 * byte order. Same definition as `build-images.sh --key` (a unit test compares them).
 * @param root repository root holding scripts/ and images/ (default: this repository)
 * @throws Error when the recipe folder is missing
 */
export function imageKey(name: string, root: string = REPO_ROOT): string {
  const recipe = join(root, 'images', name);
  if (!existsSync(join(recipe, 'image.env'))) throw new Error(`no image recipe images/${name}/image.env`);
  const files = [join(root, 'scripts', 'build-images.sh'), ...filesUnder(recipe).map((p) => relative(root, p)).sort().map((p) => join(root, p))];
  const h = createHash('sha256');
  for (const f of files) {
    h.update(`${relative(root, f)}\n`);
    h.update(readFileSync(f));
  }
  return h.digest('hex').slice(0, 16);
}

/** Where the archive of `name` lives in the cache (whether or not it was built yet). */
export function imageArchive(name: string, root: string = REPO_ROOT): string {
  return join(cacheDir(), 'images', `${name}-${imageKey(name, root)}.oci.tar`);
}

function isLocalImageName(n: string): n is LocalImageName {
  return Object.hasOwn(LOCAL_IMAGES, n);
}

function runBuild(names: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [SCRIPT, ...names], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`building the images ${names.join(', ')} failed (${signal ?? `exit ${code}`}); the output above names the missing piece`));
    });
  });
}

/**
 * The local images, built first (scripts/build-images.sh as root, output shown) when their
 * archive for the current recipe is missing. A cold build takes minutes (debootstrap and
 * PyPI); a warm call only hashes the recipes.
 * @param names recipes to return, in this order (default: every one of LOCAL_IMAGES)
 * @throws Error for an unknown name, or when a build or its start-up checks fail
 */
export async function ensureImages(names: string[] = Object.keys(LOCAL_IMAGES)): Promise<LocalImage[]> {
  const unknown = names.filter((n) => !isLocalImageName(n));
  if (unknown.length > 0) throw new Error(`unknown image ${unknown.join(', ')}; known: ${Object.keys(LOCAL_IMAGES).join(', ')}`);
  const images = (names as LocalImageName[]).map((name) => ({ name, ref: LOCAL_IMAGES[name], archive: imageArchive(name) }));
  const missing = images.filter((i) => !existsSync(i.archive)).map((i) => i.name);
  if (missing.length > 0) {
    console.error(`panalysis: building the images ${missing.join(', ')} once (minutes; cached afterwards)`);
    await runBuild(missing);
    const still = images.filter((i) => !existsSync(i.archive));
    if (still.length > 0) throw new Error(`the image build left no archive at ${still.map((i) => i.archive).join(', ')}`);
  }
  return images;
}

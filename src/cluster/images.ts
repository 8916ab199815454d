// SPDX-License-Identifier: Apache-2.0
/**
 * Images without a registry. scripts/build-images.sh builds each recipe of images/<name>/ (a
 * static Go program, Debian bookworm plus PyPI, or panalysis itself on Node) into an OCI
 * archive in the cache; the real node imports them with `ctr -n k8s.io images import`.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cacheDir, REPO_ROOT } from './binaries.ts';

/** Image references by recipe name; each equals REF in images/<name>/image.env (a unit test checks). */
export const LOCAL_IMAGES = {
  pause: 'localhost/panalysis/pause:3.10',
  jupyterlab: 'localhost/panalysis/jupyterlab:4.6.6',
  desktop: 'localhost/panalysis/desktop:1.12.0',
  websockify: 'localhost/panalysis/websockify:0.10.0',
  operator: 'localhost/panalysis/panalysis:local',
} as const;

/** The images sessions run on the real node (what {@link ensureImages} gives by default). */
export const SESSION_IMAGES: readonly LocalImageName[] = ['pause', 'jupyterlab', 'desktop', 'websockify'];

/** panalysis itself (operator and gateway), as the Helm chart runs it on the real node. */
export const OPERATOR_IMAGE = LOCAL_IMAGES.operator;

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

/** A shell variable of a recipe's image.env given in single or double quotes, split on blanks (empty when unset). */
function recipeList(env: string, name: string): string[] {
  const m = new RegExp(`^${name}=(?:'([^']*)'|"([^"]*)")`, 'm').exec(env);
  return (m?.[1] ?? m?.[2] ?? '').split(/\s+/).filter(Boolean);
}

/** sha256 over each repository-relative path as "<path>\n" then its bytes, in the order given. */
function hashFiles(h: ReturnType<typeof createHash>, root: string, paths: readonly string[]): void {
  for (const p of paths) {
    h.update(`${p}\n`);
    h.update(readFileSync(join(root, p)));
  }
}

/**
 * The cache key of an image: the first 16 hex digits of sha256 over the build script, every
 * file of the recipe folder (paths in byte order) and the recipe's INPUTS, each as
 * "<repo-relative path>\n" then its bytes. For a recipe with APP (panalysis itself) that key is
 * hashed again, as a line, with every file under the APP paths (in byte order), so a source
 * change gives a new image. Same definition as `build-images.sh --key` (a unit test compares them).
 * @param root repository root holding scripts/ and images/ (default: this repository)
 * @throws Error when the recipe folder is missing
 */
export function imageKey(name: string, root: string = REPO_ROOT): string {
  const recipe = join(root, 'images', name);
  if (!existsSync(join(recipe, 'image.env'))) throw new Error(`no image recipe images/${name}/image.env`);
  const env = readFileSync(join(recipe, 'image.env'), 'utf8');
  const base = createHash('sha256');
  hashFiles(base, root, ['scripts/build-images.sh', ...filesUnder(recipe).map((p) => relative(root, p)).sort(), ...recipeList(env, 'INPUTS')]);
  const baseKey = base.digest('hex').slice(0, 16);
  const app = recipeList(env, 'APP');
  if (app.length === 0) return baseKey;
  const h = createHash('sha256').update(`${baseKey}\n`);
  const appFiles = app.flatMap((p) => (statSync(join(root, p)).isDirectory() ? filesUnder(join(root, p)).map((f) => relative(root, f)) : [p]));
  hashFiles(h, root, appFiles.sort());
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
 * PyPI); a warm call only hashes the recipes (and, for panalysis itself, the sources: a
 * source change rebuilds only its top layer, seconds).
 * @param names recipes to return, in this order (default: {@link SESSION_IMAGES})
 * @throws Error for an unknown name, or when a build or its start-up checks fail
 */
export async function ensureImages(names: readonly string[] = SESSION_IMAGES): Promise<LocalImage[]> {
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

// SPDX-License-Identifier: Apache-2.0
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Recipe } from '../config/recipes.ts';
import { RECIPE_MARKERS, RECIPE_MOUNT, recipeDefaultUrl, recipeInitContainer, recipeVolumes } from './recipe.ts';

const ctx = { image: 'img', home: '/users/alice', env: [{ name: 'HOME', value: '/users/alice' }], securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true } };
const env = (r: Recipe) => Object.fromEntries(recipeInitContainer(r, ctx).env!.map((e) => [e.name, e.value]));

describe('recipeInitContainer', () => {
  it('passes a git source as environment values, never in the script, with home and /tmp mounted', () => {
    const r: Recipe = { name: 'xas', git: { url: 'https://git.example/x.git', ref: 'v1', path: 'nb' } };
    const c = recipeInitContainer(r, ctx);
    expect(c).toMatchObject({ name: 'recipe', image: 'img', securityContext: ctx.securityContext });
    expect(env(r)).toMatchObject({ RECIPE: 'xas', RECIPE_SOURCE: 'git', RECIPE_URL: 'https://git.example/x.git', RECIPE_REF: 'v1', RECIPE_PATH: 'nb', DEST: '/users/alice/xas' });
    expect(c.command![2]).not.toContain('git.example');
    expect(c.volumeMounts).toEqual([{ name: 'home', mountPath: '/users/alice' }, { name: 'tmp', mountPath: '/tmp' }]);
  });

  it('mounts a ConfigMap source read-only, copies an image folder from the image, into `directory`', () => {
    const cm: Recipe = { name: 'saxs', configMap: { name: 'recipe-saxs' }, directory: 'notebooks/saxs' };
    expect(recipeInitContainer(cm, ctx).volumeMounts).toContainEqual({ name: 'recipe', mountPath: RECIPE_MOUNT, readOnly: true });
    expect(env(cm)).toMatchObject({ RECIPE_SOURCE: 'configMap', RECIPE_PATH: RECIPE_MOUNT, DEST: '/users/alice/notebooks/saxs' });
    expect(recipeVolumes(cm)).toEqual([{ name: 'recipe', configMap: { name: 'recipe-saxs', defaultMode: 0o444 } }]);
    const img: Recipe = { name: 'tomo', image: { path: '/opt/recipes/tomo' } };
    expect(env(img)).toMatchObject({ RECIPE_SOURCE: 'image', RECIPE_PATH: '/opt/recipes/tomo', RECIPE_URL: '', DEST: '/users/alice/tomo' });
    expect(recipeVolumes(img)).toEqual([]);
  });

  it('opens the recipe notebook, each path segment encoded', () => {
    expect(recipeDefaultUrl({ name: 'xas', git: { url: 'https://g/x' }, open: 'notebooks/Step 1.ipynb' })).toBe('/lab/tree/xas/notebooks/Step%201.ipynb');
    expect(recipeDefaultUrl({ name: 'xas', git: { url: 'https://g/x' }, directory: 'a/b' })).toBe('/lab/tree/a/b');
  });
});

describe('the copy script, run with sh against a temporary home', () => {
  let root = '';
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** Runs the init container's script as the pod would, with `src` as the recipe's image folder. */
  function run(r: Recipe, home: string, extra: Record<string, string> = {}): string {
    const c = recipeInitContainer(r, { ...ctx, home });
    const vars = Object.fromEntries(c.env!.map((e) => [e.name, e.value!]));
    return execFileSync('sh', ['-c', c.command![2]!], { env: { PATH: process.env.PATH, ...vars, HOME: home, ...extra }, encoding: 'utf8' });
  }

  function setUp(): { src: string; home: string } {
    root = mkdtempSync(join(tmpdir(), 'recipe-'));
    const src = join(root, 'src');
    mkdirSync(join(src, 'data'), { recursive: true });
    writeFileSync(join(src, 'intro.ipynb'), 'recipe v1');
    writeFileSync(join(src, 'data', 'sample.h5'), 'h5');
    const home = join(root, 'home');
    mkdirSync(home);
    return { src, home };
  }

  it('copies once: a user edit and a user deletion survive the next start, and a newer recipe is not copied over', () => {
    const { src, home } = setUp();
    const r: Recipe = { name: 'xas', image: { path: src } };
    run(r, home);
    expect(readFileSync(join(home, 'xas', 'intro.ipynb'), 'utf8')).toBe('recipe v1');
    expect(readFileSync(join(home, 'xas', 'data', 'sample.h5'), 'utf8')).toBe('h5');
    expect(existsSync(join(home, RECIPE_MARKERS, 'xas'))).toBe(true);
    writeFileSync(join(home, 'xas', 'intro.ipynb'), 'my edit');
    rmSync(join(home, 'xas', 'data', 'sample.h5'));
    writeFileSync(join(src, 'intro.ipynb'), 'recipe v2');
    expect(run(r, home)).toMatch(/copied before, nothing to do/);
    expect(readFileSync(join(home, 'xas', 'intro.ipynb'), 'utf8')).toBe('my edit');
    expect(existsSync(join(home, 'xas', 'data', 'sample.h5'))).toBe(false);
  });

  it('before the marker (a first copy cut short), copies only what is missing and keeps what is there', () => {
    const { src, home } = setUp();
    mkdirSync(join(home, 'xas'));
    writeFileSync(join(home, 'xas', 'intro.ipynb'), 'mine');
    const out = run({ name: 'xas', image: { path: src } }, home);
    expect(out).toMatch(/kept \.\/intro\.ipynb/);
    expect(readFileSync(join(home, 'xas', 'intro.ipynb'), 'utf8')).toBe('mine');
    expect(readFileSync(join(home, 'xas', 'data', 'sample.h5'), 'utf8')).toBe('h5');
  });

  it('copies a ConfigMap volume as files the user may edit, without its ..data links', () => {
    const { home } = setUp();
    const cm = join(root, 'cm');
    mkdirSync(join(cm, '..2026_12_01'), { recursive: true });
    writeFileSync(join(cm, '..2026_12_01', 'reduce.ipynb'), 'nb', { mode: 0o444 });
    symlinkSync('..2026_12_01', join(cm, '..data'));
    symlinkSync('..data/reduce.ipynb', join(cm, 'reduce.ipynb'));
    run({ name: 'saxs', configMap: { name: 'x' } }, home, { RECIPE_PATH: cm });
    expect(readFileSync(join(home, 'saxs', 'reduce.ipynb'), 'utf8')).toBe('nb');
    expect(statSync(join(home, 'saxs', 'reduce.ipynb')).mode & 0o200).toBe(0o200);
    expect(existsSync(join(home, 'saxs', '..data'))).toBe(false);
  });

  it('fetches a git source at its ref and copies its folder, without .git', () => {
    const { home } = setUp();
    const repo = join(root, 'repo');
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@x', ...args]);
    mkdirSync(join(repo, 'basics'), { recursive: true });
    execFileSync('git', ['init', '-q', repo]);
    writeFileSync(join(repo, 'basics', 'normalise.ipynb'), 'tagged');
    git('add', '.');
    git('commit', '-q', '-m', 'one');
    git('tag', 'v1');
    writeFileSync(join(repo, 'basics', 'normalise.ipynb'), 'later');
    git('commit', '-q', '-am', 'two');
    const tmp = join(root, 'tmp');
    mkdirSync(tmp);
    run({ name: 'xas', git: { url: 'https://unused', ref: 'v1', path: 'basics' } }, home, { RECIPE_URL: repo, TMPDIR: tmp });
    expect(readFileSync(join(home, 'xas', 'normalise.ipynb'), 'utf8')).toBe('tagged');
    expect(existsSync(join(home, 'xas', '.git'))).toBe(false);
  });
});

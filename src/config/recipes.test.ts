// SPDX-License-Identifier: Apache-2.0
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseConfig } from './load.ts';
import type { ConfigError } from './load.ts';
import { recipeDirectory, recipeProblems, recipeSource } from './recipes.ts';

const demo = () => parse(readFileSync(join(import.meta.dirname, '..', '..', 'manifests', 'config', 'operator.yaml'), 'utf8')) as Record<string, any>;
const problems = (recipes: unknown[]): string[] => {
  try {
    parseConfig(stringify({ ...demo(), recipes }));
    return [];
  } catch (err) {
    return (err as ConfigError).problems;
  }
};

describe('the recipe catalogue of the configuration', () => {
  it('loads the demo catalogue, and an empty one by default', () => {
    const c = parseConfig(stringify(demo()));
    expect(c.recipes.map((r) => [r.name, recipeSource(r), recipeDirectory(r)])).toEqual([['xas-basics', 'git', 'xas-basics'], ['saxs-reduction', 'configMap', 'saxs-reduction']]);
    const { recipes: _r, ...rest } = demo();
    expect(parseConfig(stringify(rest)).recipes).toEqual([]);
  });

  it('refuses a recipe with no source or two, a duplicate name, an unknown profile and paths leaving their folder', () => {
    expect(recipeProblems([
      { name: 'a' },
      { name: 'b', git: { url: 'https://g/x' }, image: { path: '/opt' } },
      { name: 'b', image: { path: '/opt/../etc' }, profiles: ['matlab'] },
      { name: 'c', git: { url: 'https://g/x', path: 'a/../../b' }, open: '../x.ipynb' },
    ], ['jupyter-scipy'])).toEqual([
      'recipes[0]: needs exactly one of git, configMap or image (has none)',
      'recipes[1]: needs exactly one of git, configMap or image (has git, image)',
      'recipes[2].name: the name "b" is used twice',
      "recipes[2].image.path: \"/opt/../etc\" must not contain '..'",
      'recipes[2].profiles: unknown profile "matlab"; profiles: jupyter-scipy',
      "recipes[3].git.path: \"a/../../b\" must not contain '..'",
      "recipes[3].open: \"../x.ipynb\" must not contain '..'",
    ]);
  });

  it('reports catalogue problems when the configuration loads', () => {
    expect(problems([{ name: 'x', git: { url: 'http://plain/x' } }])).toEqual([expect.stringMatching(/^recipes\[0\]\.git\.url: /)]);
    expect(problems([{ name: 'x', git: { url: 'https://g/x', ref: '--upload-pack=evil' } }])).toEqual([expect.stringMatching(/^recipes\[0\]\.git\.ref: /)]);
    expect(problems([{ name: 'x' }])).toEqual(['recipes[0]: needs exactly one of git, configMap or image (has none)']);
  });
});

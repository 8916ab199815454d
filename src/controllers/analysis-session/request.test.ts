// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { demoConfig, makeSession } from '../../../test/fixtures/session.ts';
import { isRefusal, resolveRequest } from './request.ts';

describe('resolveRequest: spec.template names a recipe of the catalogue', () => {
  const config = demoConfig();

  it('resolves a catalogue recipe offered with the profile', () => {
    const r = resolveRequest(makeSession('nb').spec({ template: { recipe: 'xas-basics' } }).obj(), config);
    expect(isRefusal(r) ? r.message : r.recipe?.name).toBe('xas-basics');
    const none = resolveRequest(makeSession('nb').obj(), config);
    expect(!isRefusal(none) && none.recipe).toBe(undefined);
  });

  it('refuses a recipe outside the catalogue, naming the field and the recipes of the profile', () => {
    const r = resolveRequest(makeSession('nb').spec({ template: { recipe: 'planted' } }).obj(), config);
    expect(r).toEqual({ reason: 'RecipeNotInCatalogue', message: 'spec.template.recipe: "planted" is not in the recipe catalogue; recipes for profile jupyter-scipy: xas-basics, saxs-reduction' });
  });

  it('refuses a catalogue recipe its profile may not use', () => {
    const r = resolveRequest(makeSession('vnc').desktop('vnc').spec({ template: { recipe: 'xas-basics' } }).obj(), config);
    expect(r).toMatchObject({ reason: 'RecipeNotInCatalogue', message: 'spec.template.recipe: "xas-basics" is not offered with profile desktop-xfce; recipes for profile desktop-xfce: saxs-reduction' });
  });

  it('refuses a git URL of the session itself: sources come only from the catalogue', () => {
    const r = resolveRequest(makeSession('nb').spec({ template: { git: { url: 'https://git.example/bob/planted.git' } } }).obj(), config);
    expect(r).toMatchObject({ reason: 'RecipeNotInCatalogue', message: expect.stringMatching(/^spec\.template\.git: sources outside the recipe catalogue are refused; name a recipe with spec\.template\.recipe instead \(recipes for profile jupyter-scipy: xas-basics, saxs-reduction\)$/) });
    expect(resolveRequest(makeSession('nb').spec({ template: {} }).obj(), config)).toMatchObject({ message: expect.stringMatching(/^spec\.template\.recipe: required/) });
  });
});

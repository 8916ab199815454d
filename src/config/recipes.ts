// SPDX-License-Identifier: Apache-2.0
/**
 * The recipe catalogue of the operator configuration (`recipes`): notebooks and files an
 * admin offers per technique, which a session names with `spec.template.recipe` and gets
 * copied into its home at its first start. A session can name nothing else: a git URL,
 * ConfigMap or path only ever comes from here.
 */
import Type from 'typebox';
import { DNS_LABEL_PATTERN } from '../api/v1alpha1/schema-helpers.ts';

const Name = Type.String({ pattern: DNS_LABEL_PATTERN, maxLength: 63 });
/** A relative path (no leading `/`); `..` segments are refused by {@link recipeProblems} (no lookahead: Helm's schema check has none). */
const RELATIVE_PATH = { pattern: '^[^/\\0][^\\0]*$', maxLength: 1024 };

export const RecipeGit = Type.Object({
  /** An https repository; cloned with the session's identity, so it must be readable without credentials. */
  url: Type.String({ pattern: '^https://[^\\s]+$', maxLength: 2048 }),
  /** Branch, tag or commit (a full commit hash pins the recipe); default the repository's HEAD. */
  ref: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9._/-]{0,254}$' })),
  /** The folder of the repository to copy (default the whole repository, without `.git`). */
  path: Type.Optional(Type.String(RELATIVE_PATH)),
});

export const Recipe = Type.Object({
  name: Name,
  displayName: Type.Optional(Type.String({ maxLength: 256 })),
  /** The technique it serves (e.g. XAS, SAXS), for portals to group recipes by. */
  technique: Type.Optional(Type.String({ maxLength: 64 })),
  /** Profiles whose sessions may use it; default every profile. */
  profiles: Type.Optional(Type.Array(Name, { minItems: 1 })),
  /** Exactly one source: */
  git: Type.Optional(RecipeGit),
  /** A ConfigMap of this name in the session's namespace, put there by an admin (its keys become files). */
  configMap: Type.Optional(Type.Object({ name: Name })),
  /** A folder inside the session's image (the profile's image). */
  image: Type.Optional(Type.Object({ path: Type.String({ pattern: '^/[^\\0]*$', maxLength: 1024 }) })),
  /** The folder in home the files are copied into; default the recipe's name. */
  directory: Type.Optional(Type.String(RELATIVE_PATH)),
  /** The notebook (or folder) JupyterLab opens, relative to `directory`. */
  open: Type.Optional(Type.String(RELATIVE_PATH)),
});
export type Recipe = Type.Static<typeof Recipe>;

/** Where a recipe's files come from, as the init container is told. */
export type RecipeSource = 'git' | 'configMap' | 'image';

/** The source kind of `r` (its one source; the configuration check guarantees exactly one). */
export function recipeSource(r: Recipe): RecipeSource {
  if (r.git) return 'git';
  if (r.configMap) return 'configMap';
  return 'image';
}

/** The folder in home a recipe is copied into, relative to home. */
export function recipeDirectory(r: Recipe): string {
  return r.directory ?? r.name;
}

/**
 * Cross-field problems of `recipes` (one per issue, with its path): duplicate names, not
 * exactly one source, profiles that do not exist.
 */
export function recipeProblems(recipes: readonly Recipe[], profiles: readonly string[]): string[] {
  const problems: string[] = [];
  const names = recipes.map((r) => r.name);
  recipes.forEach((r, i) => {
    if (names.indexOf(r.name) !== i) problems.push(`recipes[${i}].name: the name "${r.name}" is used twice`);
    const sources = (['git', 'configMap', 'image'] as const).filter((k) => r[k] !== undefined);
    if (sources.length !== 1) problems.push(`recipes[${i}]: needs exactly one of git, configMap or image (has ${sources.join(', ') || 'none'})`);
    const paths: Array<[string, string | undefined]> = [['git.path', r.git?.path], ['image.path', r.image?.path], ['directory', r.directory], ['open', r.open]];
    for (const [field, path] of paths) if (path?.split('/').includes('..')) problems.push(`recipes[${i}].${field}: "${path}" must not contain '..'`);
    for (const p of r.profiles ?? []) if (!profiles.includes(p)) problems.push(`recipes[${i}].profiles: unknown profile "${p}"; profiles: ${profiles.join(', ')}`);
  });
  return problems;
}

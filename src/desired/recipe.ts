// SPDX-License-Identifier: Apache-2.0
/**
 * A catalogue recipe in the session pod (pure): an init container, running as the user
 * with the restricted security context and the profile's image, copies the recipe's files
 * into home once, and JupyterLab opens its notebook.
 *
 * Copy once, never over the user's work: a marker file `~/.panalysis/recipes/<name>` is
 * written after a complete copy, and while it exists nothing is copied again (a file the
 * user deleted stays deleted). Before it exists (first start, or a copy cut short) only
 * files that do not exist yet are copied; an existing file, folder or link is kept.
 *
 * Sources: a git repository (fetched into /tmp at the catalogue's ref, then its `path`
 * copied; the image needs git), a ConfigMap of the session's namespace mounted read-only
 * (its keys are the files), or a folder of the image. Every value reaches the script as an
 * environment variable, never spliced into it.
 */
import type { V1Container, V1EnvVar, V1Volume } from '@kubernetes/client-node';
import { recipeDirectory, recipeSource } from '../config/recipes.ts';
import type { Recipe } from '../config/recipes.ts';

/** Where a ConfigMap recipe is mounted in the init container. */
export const RECIPE_MOUNT = '/var/run/panalysis/recipe';
/** The folder of home (relative) that holds one marker file per recipe copied. */
export const RECIPE_MARKERS = '.panalysis/recipes';

/**
 * The init container's script. Reads RECIPE, RECIPE_SOURCE (git, configMap, image),
 * RECIPE_URL, RECIPE_REF, RECIPE_PATH, DEST and HOME from the environment; exits 0
 * without touching home when the marker exists.
 */
export const RECIPE_SCRIPT = [
  'set -eu',
  `marker="$HOME/${RECIPE_MARKERS}/$RECIPE"`,
  'if [ -e "$marker" ]; then echo "recipe $RECIPE: copied before, nothing to do"; exit 0; fi',
  'src="$RECIPE_PATH"',
  'if [ "$RECIPE_SOURCE" = git ]; then',
  '  work=$(mktemp -d "${TMPDIR:-/tmp}/recipe.XXXXXX")',
  '  git init -q "$work"',
  '  git -C "$work" fetch -q --depth 1 -- "$RECIPE_URL" "${RECIPE_REF:-HEAD}"',
  '  git -C "$work" -c advice.detachedHead=false checkout -q FETCH_HEAD',
  '  src="$work/$RECIPE_PATH"',
  'fi',
  'if [ ! -d "$src" ]; then echo "recipe $RECIPE: $src is not a folder" >&2; exit 1; fi',
  'mkdir -p "$DEST"',
  'cd "$src"',
  // `.git` is not copied, nor the `..data` links of a ConfigMap volume; links are copied as the files they point to,
  // and every file copied is the user's to edit (ConfigMap files are read-only, 0444).
  "find . \\( -name .git -o -name '..?*' \\) -prune -o ! -name . -exec sh -c '" +
    'for f; do if [ -d "$f" ]; then mkdir -p "$DEST/$f" 2>/dev/null || echo "kept $f"; ' +
    'elif [ -e "$DEST/$f" ] || [ -L "$DEST/$f" ]; then echo "kept $f"; ' +
    'else cp -L "$f" "$DEST/$f" && chmod u+w "$DEST/$f" || echo "skipped $f"; fi; done' +
    "' sh {} +",
  'cd /',
  'if [ "$RECIPE_SOURCE" = git ]; then rm -rf "$work"; fi',
  'mkdir -p "${marker%/*}"',
  'echo "$RECIPE_SOURCE" > "$marker"',
  'echo "recipe $RECIPE: copied into $DEST"',
].join('\n');

/** What the init container needs besides the recipe. */
export interface RecipeContext {
  image: string;
  home: string;
  env: V1EnvVar[];
  securityContext: V1Container['securityContext'];
}

/** The init container that copies `recipe` into home (see the module contract). */
export function recipeInitContainer(recipe: Recipe, c: RecipeContext): V1Container {
  const source = recipeSource(recipe);
  const path = source === 'git' ? (recipe.git!.path ?? '') : source === 'configMap' ? RECIPE_MOUNT : recipe.image!.path;
  return {
    name: 'recipe',
    image: c.image,
    command: ['sh', '-c', RECIPE_SCRIPT],
    env: [
      ...c.env,
      { name: 'RECIPE', value: recipe.name },
      { name: 'RECIPE_SOURCE', value: source },
      { name: 'RECIPE_URL', value: recipe.git?.url ?? '' },
      { name: 'RECIPE_REF', value: recipe.git?.ref ?? '' },
      { name: 'RECIPE_PATH', value: path },
      { name: 'DEST', value: `${c.home}/${recipeDirectory(recipe)}` },
    ],
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } },
    volumeMounts: [
      { name: 'home', mountPath: c.home },
      { name: 'tmp', mountPath: '/tmp' },
      ...(source === 'configMap' ? [{ name: 'recipe', mountPath: RECIPE_MOUNT, readOnly: true as const }] : []),
    ],
    securityContext: c.securityContext,
  };
}

/** The ConfigMap volume of a ConfigMap recipe (read-only files), or nothing. */
export function recipeVolumes(recipe: Recipe | undefined): V1Volume[] {
  if (!recipe?.configMap) return [];
  return [{ name: 'recipe', configMap: { name: recipe.configMap.name, defaultMode: 0o444 } }];
}

/**
 * JupyterLab's default URL for a recipe (relative to its base URL): its notebook or
 * folder (`open`) in the recipe's directory, else the directory; each segment encoded.
 */
export function recipeDefaultUrl(recipe: Recipe): string {
  const path = [recipeDirectory(recipe), ...(recipe.open ? [recipe.open] : [])].join('/');
  return `/lab/tree/${path.split('/').filter((p) => p !== '' && p !== '.').map(encodeURIComponent).join('/')}`;
}

// SPDX-License-Identifier: Apache-2.0
/**
 * Loading and checking the operator configuration. Every problem is reported with its
 * path and what would be allowed, all at once, before the operator starts work.
 */
import { defaultQuotaProblems } from './quota-default.ts';
import { recipeProblems } from './recipes.ts';
import { readFileSync } from 'node:fs';
import Schema from 'typebox/schema';
import { Value } from 'typebox/value';
import { parse } from 'yaml';
import { parseDuration, parseQuantity } from '../api/quantity.ts';
import { OperatorConfig } from './schema.ts';
import { closeObjects } from './strict.ts';

/** The configuration is unusable; `problems` lists each issue with its path. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(source: string, problems: string[]) {
    super(`invalid configuration ${source}:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

/** Unknown keys are refused too (see {@link closeObjects}). */
const validator = Schema.Compile(closeObjects(OperatorConfig) as unknown as typeof OperatorConfig);

function schemaProblems(value: unknown): string[] {
  if (validator.Check(value)) return [];
  const [, errors] = validator.Errors(value) as unknown as [boolean, Array<{ instancePath: string; message: string; params?: { allowedValues?: unknown[]; additionalProperties?: string[] } }>];
  // An unknown key is reported once, by its object (the key's own "schema is false" is dropped).
  return errors.filter((e) => e.message !== 'schema is false').map((e) => {
    const path = e.instancePath.split('/').filter(Boolean).map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '') || '(root)';
    if (e.params?.additionalProperties) return `${path}: unknown key ${e.params.additionalProperties.map((k) => `"${k}"`).join(', ')}; check its spelling against the configuration reference`;
    const allowed = e.params?.allowedValues ? `: ${e.params.allowedValues.join(', ')}` : '';
    return `${path}: ${e.message}${allowed}`;
  });
}

function duplicates(names: string[]): string[] {
  return names.filter((n, i) => names.indexOf(n) !== i);
}

/** The gateway section's cross-field checks. */
function gatewayProblems(g: OperatorConfig['gateway']): string[] {
  const problems: string[] = [];
  if (g.routing === 'subdomain' && !g.sessionDomain) {
    problems.push('gateway.sessionDomain: required when gateway.routing is subdomain (the default): set the wildcard domain of the session hosts, or routing: path for a site without wildcard DNS');
  }
  try {
    parseDuration(g.loginTtl);
  } catch (err) {
    problems.push(`gateway.loginTtl: ${(err as Error).message}`);
  }
  return problems;
}

/** Cross-field checks the schema cannot express. */
function semanticProblems(c: OperatorConfig): string[] {
  const problems: string[] = [];
  const flavours = c.gpuFlavours.map((f) => f.name);
  for (const d of duplicates(c.profiles.map((p) => p.name))) problems.push(`profiles: the name "${d}" is used twice`);
  for (const d of duplicates(flavours)) problems.push(`gpuFlavours: the name "${d}" is used twice`);
  c.profiles.forEach((p, i) => {
    for (const f of p.gpuFlavours ?? []) {
      if (!flavours.includes(f)) problems.push(`profiles[${i}].gpuFlavours: unknown GPU flavour "${f}"; defined flavours: ${flavours.join(', ') || '(none)'}`);
    }
    for (const r of ['cpu', 'memory'] as const) {
      if (parseQuantity(p.defaults[r]) > parseQuantity(p.limits[r])) problems.push(`profiles[${i}].defaults.${r}: ${p.defaults[r]} exceeds profiles[${i}].limits.${r} (${p.limits[r]})`);
    }
    if (p.type === 'jupyter' && p.protocols) problems.push(`profiles[${i}].protocols: only desktop profiles have protocols`);
  });
  for (const key of ['lifetime', 'maxLifetime'] as const) {
    try {
      parseDuration(c.defaults[key]);
    } catch (err) {
      problems.push(`defaults.${key}: ${(err as Error).message}`);
    }
  }
  if (problems.length === 0 && parseDuration(c.defaults.lifetime) > parseDuration(c.defaults.maxLifetime)) {
    problems.push(`defaults.lifetime: ${c.defaults.lifetime} exceeds defaults.maxLifetime (${c.defaults.maxLifetime})`);
  }
  problems.push(...defaultQuotaProblems(c.quotas?.default, flavours));
  problems.push(...gatewayProblems(c.gateway));
  problems.push(...recipeProblems(c.recipes, c.profiles.map((p) => p.name)));
  if (c.directory.provider === 'static' && !c.directory.static) problems.push('directory.static: required when directory.provider is static');
  if (c.directory.provider === 'ldap' && !c.directory.ldap) problems.push('directory.ldap: required when directory.provider is ldap');
  if (c.proposals.provider === 'ldap' && !c.directory.ldap) problems.push('directory.ldap: required when proposals.provider is ldap (proposal groups are read from the directory)');
  return problems;
}

/**
 * Parses and checks a configuration document (YAML or JSON text).
 * @throws ConfigError listing every problem.
 */
export function parseConfig(text: string, source = '(inline)'): OperatorConfig {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new ConfigError(source, [`not valid YAML: ${(err as Error).message}`]);
  }
  const withDefaults = Value.Default(OperatorConfig, structuredClone(raw ?? {}));
  const problems = schemaProblems(withDefaults);
  if (problems.length > 0) throw new ConfigError(source, problems);
  const config = withDefaults as OperatorConfig;
  const more = semanticProblems(config);
  if (more.length > 0) throw new ConfigError(source, more);
  return config;
}

/** Reads and checks the configuration file at `path`. */
export function loadConfig(path: string): OperatorConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [`cannot read it: ${(err as Error).message}`]);
  }
  return parseConfig(text, path);
}

// SPDX-License-Identifier: Apache-2.0
/**
 * Checks a session's request against the operator configuration (pure): profile, type,
 * protocol, GPU flavour and count, CPU and memory within the profile's limits, lifetime
 * within policy, a recipe of the catalogue. A refusal names the field, the rule and the
 * allowed values.
 */
import type { AnalysisSession, DesktopProtocol } from '../../api/v1alpha1/analysis-session.ts';
import { formatDuration, parseDuration, parseQuantity } from '../../api/quantity.ts';
import type { GpuFlavour, OperatorConfig, Profile } from '../../config/schema.ts';
import type { Recipe } from '../../config/recipes.ts';

/** What the session will get. */
export interface ResolvedRequest {
  profile: Profile;
  protocol?: DesktopProtocol;
  flavour?: GpuFlavour;
  gpuCount: number;
  cpu: string;
  memory: string;
  lifetimeMs: number;
  geometry: string;
  /** The catalogue recipe `spec.template.recipe` names, if any. */
  recipe?: Recipe;
}

/** Why the request cannot be served as written; `reason` is PascalCase. */
export interface Refusal {
  reason: string;
  message: string;
}

const asString = (q: string | number): string => String(q);
const list = (xs: readonly string[]): string => (xs.length > 0 ? xs.join(', ') : '(none)');

function checkProfile(s: AnalysisSession, config: OperatorConfig): Profile | Refusal {
  const profile = config.profiles.find((p) => p.name === s.spec.profile);
  const ofType = config.profiles.filter((p) => p.type === s.spec.type).map((p) => p.name);
  if (!profile) return { reason: 'UnknownProfile', message: `spec.profile: unknown profile "${s.spec.profile}"; profiles for ${s.spec.type} sessions: ${list(ofType)}` };
  if (profile.type !== s.spec.type) return { reason: 'ProfileTypeMismatch', message: `spec.profile: "${profile.name}" is a ${profile.type} profile but spec.type is ${s.spec.type}; profiles for ${s.spec.type} sessions: ${list(ofType)}` };
  return profile;
}

function checkGpu(s: AnalysisSession, profile: Profile, config: OperatorConfig): { flavour?: GpuFlavour; count: number } | Refusal {
  const gpu = s.spec.resources?.gpu;
  if (!gpu) return { count: 0 };
  const allowed = profile.gpuFlavours ?? [];
  const flavour = config.gpuFlavours.find((f) => f.name === gpu.flavour);
  if (!flavour || !allowed.includes(gpu.flavour)) {
    return { reason: 'GpuFlavourNotAllowed', message: `spec.resources.gpu.flavour: "${gpu.flavour}" is not offered with profile ${profile.name}; allowed flavours: ${list(allowed)}` };
  }
  if (gpu.count > flavour.maxCount) {
    return { reason: 'GpuCountTooHigh', message: `spec.resources.gpu.count: ${gpu.count} exceeds the limit of ${flavour.maxCount} for flavour ${flavour.name}; ask for 1 to ${flavour.maxCount}` };
  }
  return { flavour, count: gpu.count };
}

function checkQuantity(field: 'cpu' | 'memory', s: AnalysisSession, profile: Profile): string | Refusal {
  const requested = s.spec.resources?.[field];
  const value = requested === undefined ? asString(profile.defaults[field]) : asString(requested);
  if (parseQuantity(value) > parseQuantity(profile.limits[field])) {
    return { reason: 'ResourcesTooHigh', message: `spec.resources.${field}: ${value} exceeds the limit ${profile.limits[field]} of profile ${profile.name}; ask for at most ${profile.limits[field]}` };
  }
  return value;
}

function checkLifetime(s: AnalysisSession, config: OperatorConfig): number | Refusal {
  const max = parseDuration(config.defaults.maxLifetime);
  const lifetime = parseDuration(s.spec.lifetime ?? config.defaults.lifetime);
  if (lifetime > max) return { reason: 'LifetimeTooLong', message: `spec.lifetime: ${s.spec.lifetime} exceeds the maximum of ${formatDuration(max)}; ask for at most ${formatDuration(max)}` };
  if (s.spec.idleTimeout) parseDuration(s.spec.idleTimeout);
  return lifetime;
}

function checkProtocol(s: AnalysisSession, profile: Profile): DesktopProtocol | undefined | Refusal {
  if (s.spec.type !== 'desktop') return undefined;
  const protocol = s.spec.desktop?.protocol ?? 'vnc';
  const offered = profile.protocols ?? ['vnc', 'guacamole'];
  if (!offered.includes(protocol)) return { reason: 'ProtocolNotOffered', message: `spec.desktop.protocol: profile ${profile.name} offers ${list(offered)}, not ${protocol}` };
  return protocol;
}

/** The catalogue recipe the session names (undefined: none asked), or a refusal naming the recipes its profile may use. */
function checkRecipe(s: AnalysisSession, profile: Profile, config: OperatorConfig): Recipe | undefined | Refusal {
  const template = s.spec.template;
  if (!template) return undefined;
  const offered = (config.recipes ?? []).filter((r) => !r.profiles || r.profiles.includes(profile.name));
  const known = `recipes for profile ${profile.name}: ${list(offered.map((r) => r.name))}`;
  if (template.git) return { reason: 'RecipeNotInCatalogue', message: `spec.template.git: sources outside the recipe catalogue are refused; name a recipe with spec.template.recipe instead (${known})` };
  if (!template.recipe) return { reason: 'RecipeNotInCatalogue', message: `spec.template.recipe: required to pre-populate home; ${known}` };
  const recipe = offered.find((r) => r.name === template.recipe);
  if (!recipe) {
    const elsewhere = (config.recipes ?? []).some((r) => r.name === template.recipe);
    const why = elsewhere ? `is not offered with profile ${profile.name}` : 'is not in the recipe catalogue';
    return { reason: 'RecipeNotInCatalogue', message: `spec.template.recipe: "${template.recipe}" ${why}; ${known}` };
  }
  return recipe;
}

const isRefusal = (x: unknown): x is Refusal => typeof x === 'object' && x !== null && 'reason' in x && 'message' in x;

/** Resolves the request, or says why not (first problem found, in field order). */
export function resolveRequest(s: AnalysisSession, config: OperatorConfig): ResolvedRequest | Refusal {
  const profile = checkProfile(s, config);
  if (isRefusal(profile)) return profile;
  const protocol = checkProtocol(s, profile);
  if (isRefusal(protocol)) return protocol;
  const cpu = checkQuantity('cpu', s, profile);
  if (isRefusal(cpu)) return cpu;
  const memory = checkQuantity('memory', s, profile);
  if (isRefusal(memory)) return memory;
  const gpu = checkGpu(s, profile, config);
  if (isRefusal(gpu)) return gpu;
  const lifetimeMs = checkLifetime(s, config);
  if (isRefusal(lifetimeMs)) return lifetimeMs;
  const recipe = checkRecipe(s, profile, config);
  if (isRefusal(recipe)) return recipe;
  return { profile, protocol, flavour: gpu.flavour, gpuCount: gpu.count, cpu, memory, lifetimeMs, geometry: s.spec.desktop?.geometry ?? '1920x1080', ...(recipe ? { recipe } : {}) };
}

export { isRefusal };
